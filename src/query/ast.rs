//! The syntax tree of a parsed query and its canonical text form.

use std::fmt;

/// A parsed query.
///
/// All word texts are *folded* tokens as produced by [`crate::text::tokenize`] (lowercase, no
/// diacritics, one word each: no spaces or punctuation inside). Trees built by
/// [`parse`](super::parse) satisfy these invariants, which [`Display`](fmt::Display) and the
/// matcher rely on:
///
/// * [`Expr::Phrase`] has at least one word;
/// * [`Expr::And`] and [`Expr::Or`] have at least two children (`a AND b AND c` is one
///   `And` of three; a parenthesised group stays a nested node);
/// * both sides of [`Expr::Near`] are single-word phrases, tags or prefixes;
/// * [`Expr::Near::distance`] is at least 1;
/// * [`Expr::Prefix`] and [`Expr::Tag`] texts are single non-empty words.
///
/// Translation to an inverted index (tantivy) is direct: `Phrase` of one word is a term
/// query and of several words a phrase query (slop 0) on the folded tokens; `Prefix` a
/// prefix query on the term dictionary; `Tag` a term that must occur with its sigil (index
/// sigil tokens separately, e.g. as `#acme` in a tag field); `Near` an unordered proximity
/// query (max position difference `distance`); `Not` under `And` a must-not clause, and a bare
/// `Not` (or `Not` under `Or`) "all documents minus …".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// Words that must occur at consecutive positions. A single word is a one-word phrase;
    /// it also matches when the word is a hashtag or handle (`acme` matches `#acme`).
    Phrase(Vec<String>),
    /// `foo*`: any word that starts with the folded prefix (hashtags and handles included).
    Prefix(String),
    /// `#tag` or `@handle`: the word immediately preceded by `sigil` (`'#'` or `'@'`).
    Tag {
        /// `'#'` or `'@'`.
        sigil: char,
        /// The folded word, without the sigil.
        text: String,
    },
    /// `left NEAR/distance right`: both occur with positions at most `distance` apart, in
    /// either order.
    Near {
        /// A single-word phrase, tag or prefix.
        left: Box<Expr>,
        /// A single-word phrase, tag or prefix.
        right: Box<Expr>,
        /// Largest allowed difference of token positions (1 = adjacent).
        distance: u32,
    },
    /// All children match.
    And(Vec<Expr>),
    /// At least one child matches.
    Or(Vec<Expr>),
    /// The child does not match.
    Not(Box<Expr>),
    /// `name:value` (only with [`ParseOptions::allow_fields`](super::ParseOptions)): a filter
    /// on a field of the mention that the caller interprets. `name` is spelled as in the
    /// allowed list; `value` is the raw text as written (unquoted, escapes resolved, not
    /// folded).
    Field {
        /// The field name, as spelled in `allow_fields`.
        name: String,
        /// The raw value.
        value: String,
    },
}

impl Expr {
    /// A single-word phrase (a plain term). `word` must be a folded token.
    pub fn term(word: impl Into<String>) -> Expr {
        Expr::Phrase(vec![word.into()])
    }

    /// Whether this is a valid operand of `NEAR`: a single word, tag or prefix.
    pub fn is_near_operand(&self) -> bool {
        match self {
            Expr::Phrase(words) => words.len() == 1,
            Expr::Prefix(_) | Expr::Tag { .. } => true,
            _ => false,
        }
    }
}

/// Whether a field value can be written without quotes.
fn bare_value(v: &str) -> bool {
    !v.is_empty()
        && !v
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '(' | ')' | '\\'))
}

/// Writes `s` as a quoted string, escaping `"` and `\`.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

fn write_child(f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// The canonical query text: parsing it (with the field names allowed) gives back an equal
/// `Expr`. Operators are uppercase, phrases of several words are quoted, and parentheses
/// appear exactly where the tree has a nested group.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Phrase(words) if words.len() == 1 => f.write_str(&words[0]),
            Expr::Phrase(words) => write!(f, "\"{}\"", words.join(" ")),
            Expr::Prefix(p) => write!(f, "{p}*"),
            Expr::Tag { sigil, text } => write!(f, "{sigil}{text}"),
            Expr::Near {
                left,
                right,
                distance,
            } => {
                write!(f, "{left} NEAR/{distance} {right}")
            }
            Expr::And(children) => {
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    write_child(f, c, matches!(c, Expr::And(_) | Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Or(children) => {
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    write_child(f, c, matches!(c, Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Not(child) => {
                f.write_str("NOT ")?;
                write_child(
                    f,
                    child,
                    matches!(**child, Expr::And(_) | Expr::Or(_) | Expr::Near { .. }),
                )
            }
            Expr::Field { name, value } => {
                write!(f, "{name}:")?;
                if bare_value(value) {
                    f.write_str(value)
                } else {
                    write_quoted(f, value)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_canonical_forms() {
        let e = Expr::And(vec![
            Expr::Or(vec![
                Expr::term("acme"),
                Expr::Phrase(vec!["acme".into(), "corp".into()]),
                Expr::Tag {
                    sigil: '#',
                    text: "acme".into(),
                },
                Expr::Tag {
                    sigil: '@',
                    text: "acme".into(),
                },
            ]),
            Expr::Not(Box::new(Expr::Phrase(vec!["road".into(), "runner".into()]))),
        ]);
        assert_eq!(
            e.to_string(),
            r#"(acme OR "acme corp" OR #acme OR @acme) AND NOT "road runner""#
        );
        let n = Expr::Near {
            left: Box::new(Expr::Prefix("acm".into())),
            right: Box::new(Expr::term("bad")),
            distance: 3,
        };
        assert_eq!(n.to_string(), "acm* NEAR/3 bad");
        assert_eq!(Expr::Not(Box::new(n)).to_string(), "NOT (acm* NEAR/3 bad)");
        let f = Expr::Field {
            name: "source".into(),
            value: "a \"b\"\\".into(),
        };
        assert_eq!(f.to_string(), r#"source:"a \"b\"\\""#);
        let f = Expr::Field {
            name: "lang".into(),
            value: "en".into(),
        };
        assert_eq!(f.to_string(), "lang:en");
        let f = Expr::Field {
            name: "lang".into(),
            value: String::new(),
        };
        assert_eq!(f.to_string(), "lang:\"\"");
    }
}
