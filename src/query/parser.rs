//! Hand-written lexer and recursive-descent parser for the `match` language.
//!
//! Grammar (precedence from loosest to tightest: `OR` < `AND` < `NEAR` < `NOT`):
//!
//! ```text
//! query   := or EOF
//! or      := and ("OR" and)*
//! and     := near (["AND"] near)*            juxtaposition is AND
//! near    := unary ["NEAR/n" unary]          not chainable
//! unary   := ("NOT" | "-") unary | primary
//! primary := "(" or ")" | "\"phrase\"" | word | #word | @word | prefix* | name:value
//! ```
//!
//! Columns in errors are 1-based and count characters (not bytes).

use super::ast::Expr;
use super::{ParseOptions, QueryError};
use crate::text::tokenize;

/// Deepest allowed nesting of parentheses and `NOT`s.
const MAX_DEPTH: usize = 100;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Near(u32),
    Quoted(String),
    Word(String),
    Field { name: String, value: String },
    End,
}

impl Tok {
    fn starts_operand(&self) -> bool {
        matches!(
            self,
            Tok::LParen | Tok::Not | Tok::Quoted(_) | Tok::Word(_) | Tok::Field { .. }
        )
    }
}

#[derive(Debug, Clone)]
struct Lexeme {
    tok: Tok,
    /// 1-based character column of the first character.
    col: usize,
}

fn err<T>(column: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        column,
        message: message.into(),
    })
}

struct Lexer<'o> {
    chars: Vec<char>,
    pos: usize,
    opts: &'o ParseOptions<'o>,
    peeked: Option<Lexeme>,
}

fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"')
}

fn is_field_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl<'o> Lexer<'o> {
    fn peek(&mut self) -> Result<&Lexeme, QueryError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex()?);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    fn next(&mut self) -> Result<Lexeme, QueryError> {
        self.peek()?;
        Ok(self.peeked.take().expect("just filled"))
    }

    /// Reads a quoted string starting at the opening quote; returns its content.
    fn quoted(&mut self) -> Result<String, QueryError> {
        let open = self.pos;
        self.pos += 1;
        let mut s = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            match c {
                '"' => return Ok(s),
                '\\' if matches!(self.chars.get(self.pos), Some('"' | '\\')) => {
                    s.push(self.chars[self.pos]);
                    self.pos += 1;
                }
                c => s.push(c),
            }
        }
        err(open + 1, "unclosed quote: a phrase must end with '\"'")
    }

    fn lex(&mut self) -> Result<Lexeme, QueryError> {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
        let col = self.pos + 1;
        let Some(&c) = self.chars.get(self.pos) else {
            return Ok(Lexeme { tok: Tok::End, col });
        };
        let tok = match c {
            '(' => {
                self.pos += 1;
                Tok::LParen
            }
            ')' => {
                self.pos += 1;
                Tok::RParen
            }
            '"' => Tok::Quoted(self.quoted()?),
            '-' if self
                .chars
                .get(self.pos + 1)
                .is_some_and(|&n| !n.is_whitespace() && n != ')') =>
            {
                self.pos += 1;
                Tok::Not
            }
            _ => {
                let start = self.pos;
                while self.chars.get(self.pos).is_some_and(|&c| !ends_word(c)) {
                    self.pos += 1;
                }
                let word: String = self.chars[start..self.pos].iter().collect();
                self.classify(word, col)?
            }
        };
        Ok(Lexeme { tok, col })
    }

    fn classify(&mut self, word: String, col: usize) -> Result<Tok, QueryError> {
        match word.as_str() {
            "AND" => return Ok(Tok::And),
            "OR" => return Ok(Tok::Or),
            "NOT" => return Ok(Tok::Not),
            "NEAR" => return err(col, "NEAR needs a distance, e.g. NEAR/3"),
            _ => {}
        }
        if let Some(n) = word.strip_prefix("NEAR/") {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                return err(
                    col,
                    format!("invalid NEAR distance '{n}': expected a whole number, e.g. NEAR/3"),
                );
            }
            return match n.parse::<u32>() {
                Ok(0) => err(col, "NEAR distance must be at least 1"),
                Ok(d) => Ok(Tok::Near(d)),
                Err(_) => err(col, format!("NEAR distance {n} is too large")),
            };
        }
        if !self.opts.allow_fields.is_empty()
            && let Some((name, value)) = word.split_once(':')
            && is_field_name(name)
        {
            let Some(&allowed) = self
                .opts
                .allow_fields
                .iter()
                .find(|f| f.eq_ignore_ascii_case(name))
            else {
                return err(
                    col,
                    format!(
                        "unknown field '{name}'; allowed fields: {}",
                        self.opts.allow_fields.join(", ")
                    ),
                );
            };
            let value = if !value.is_empty() {
                value.to_owned()
            } else if self.chars.get(self.pos) == Some(&'"') {
                self.quoted()?
            } else {
                return err(col, format!("missing value after '{name}:'"));
            };
            return Ok(Tok::Field {
                name: allowed.to_owned(),
                value,
            });
        }
        Ok(Tok::Word(word))
    }
}

/// Turns a bare word (term, `#tag`, `@handle` or `prefix*`) into an expression.
fn word_expr(word: &str, col: usize) -> Result<Expr, QueryError> {
    let mut chars = word.chars();
    let (sigil, body, body_col) = match chars.next() {
        Some('#' | '\u{FF03}') => (Some('#'), chars.as_str(), col + 1),
        Some('@' | '\u{FF20}') => (Some('@'), chars.as_str(), col + 1),
        _ => (None, word, col),
    };
    let nchars = body.chars().count();
    if let Some(k) = body.chars().position(|c| c == '*') {
        if nchars == 1 {
            return err(body_col + k, "'*' needs a word before it, e.g. acme*");
        }
        if k != nchars - 1 {
            return err(
                body_col + k,
                "'*' is only allowed at the end of a word, e.g. acme*",
            );
        }
        if sigil.is_some() {
            return err(
                body_col + k,
                "a prefix search ('*') is not supported on hashtags and handles",
            );
        }
        let stem = &body[..body.len() - 1];
        let tokens = tokenize(stem);
        if tokens.len() != 1 || tokens[0].start != 0 || tokens[0].end != stem.len() {
            return err(
                col,
                format!("a prefix search needs a single word before '*', not '{stem}'"),
            );
        }
        return Ok(Expr::Prefix(
            tokens.into_iter().next().expect("one token").text,
        ));
    }
    let tokens = tokenize(body);
    if let Some(sigil) = sigil {
        let what = if sigil == '#' { "hashtag" } else { "handle" };
        if tokens.is_empty() || tokens[0].start != 0 {
            return err(body_col, format!("expected a word right after '{sigil}'"));
        }
        if tokens.len() > 1 {
            return err(
                col,
                format!(
                    "a {what} must be a single word; '{word}' has several (quote it to search a phrase)"
                ),
            );
        }
        return Ok(Expr::Tag {
            sigil,
            text: tokens.into_iter().next().expect("one token").text,
        });
    }
    if tokens.is_empty() {
        return err(col, format!("'{word}' contains no letters or digits"));
    }
    Ok(Expr::Phrase(tokens.into_iter().map(|t| t.text).collect()))
}

fn describe(e: &Expr) -> &'static str {
    match e {
        Expr::Phrase(_) => "a phrase of several words",
        Expr::And(_) | Expr::Or(_) => "a group",
        Expr::Not(_) => "a NOT expression (to negate a proximity, write NOT (a NEAR/3 b))",
        Expr::Field { .. } => "a field filter",
        Expr::Near { .. } => "a NEAR expression",
        Expr::Prefix(_) | Expr::Tag { .. } => "a word",
    }
}

struct Parser<'o> {
    lex: Lexer<'o>,
    depth: usize,
}

impl Parser<'_> {
    fn enter(&mut self, col: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return err(
                col,
                format!("query is nested too deeply (more than {MAX_DEPTH} levels)"),
            );
        }
        Ok(())
    }

    /// Consumes a binary operator at `col` and checks that an operand follows.
    fn operand_after(&mut self, name: &str, col: usize) -> Result<(), QueryError> {
        if self.lex.peek()?.tok.starts_operand() {
            Ok(())
        } else {
            err(col, format!("{name} needs a term after it"))
        }
    }

    fn or(&mut self) -> Result<(Expr, usize), QueryError> {
        let (first, col) = self.and()?;
        let mut items = vec![first];
        while self.lex.peek()?.tok == Tok::Or {
            let op = self.lex.next()?;
            self.operand_after("OR", op.col)?;
            items.push(self.and()?.0);
        }
        Ok((
            if items.len() == 1 {
                items.pop().expect("one")
            } else {
                Expr::Or(items)
            },
            col,
        ))
    }

    fn and(&mut self) -> Result<(Expr, usize), QueryError> {
        let (first, col) = self.near()?;
        let mut items = vec![first];
        loop {
            let next = self.lex.peek()?;
            if next.tok == Tok::And {
                let op = self.lex.next()?;
                self.operand_after("AND", op.col)?;
            } else if !next.tok.starts_operand() {
                break;
            }
            items.push(self.near()?.0);
        }
        Ok((
            if items.len() == 1 {
                items.pop().expect("one")
            } else {
                Expr::And(items)
            },
            col,
        ))
    }

    fn near(&mut self) -> Result<(Expr, usize), QueryError> {
        let (left, lcol) = self.unary()?;
        let Tok::Near(distance) = self.lex.peek()?.tok else {
            return Ok((left, lcol));
        };
        let op = self.lex.next()?;
        let name = format!("NEAR/{distance}");
        self.operand_after(&name, op.col)?;
        let (right, rcol) = self.unary()?;
        for (e, c) in [(&left, lcol), (&right, rcol)] {
            if !e.is_near_operand() {
                return err(
                    c,
                    format!(
                        "{name} works between single words, hashtags, handles or prefixes, not {}",
                        describe(e)
                    ),
                );
            }
        }
        let next = self.lex.peek()?;
        if matches!(next.tok, Tok::Near(_)) {
            return err(
                next.col,
                "NEAR cannot be chained; combine pairs with AND, e.g. (a NEAR/3 b) AND (b NEAR/3 c)",
            );
        }
        Ok((
            Expr::Near {
                left: Box::new(left),
                right: Box::new(right),
                distance,
            },
            lcol,
        ))
    }

    fn unary(&mut self) -> Result<(Expr, usize), QueryError> {
        if self.lex.peek()?.tok == Tok::Not {
            let op = self.lex.next()?;
            self.operand_after("NOT", op.col)?;
            self.enter(op.col)?;
            let (e, _) = self.unary()?;
            self.depth -= 1;
            return Ok((Expr::Not(Box::new(e)), op.col));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<(Expr, usize), QueryError> {
        let Lexeme { tok, col } = self.lex.next()?;
        let e = match tok {
            Tok::LParen => {
                match self.lex.peek()?.tok {
                    Tok::RParen => return err(col, "empty parentheses"),
                    Tok::End => return err(col, "unclosed '(': missing ')'"),
                    _ => {}
                }
                self.enter(col)?;
                let (e, _) = self.or()?;
                self.depth -= 1;
                if self.lex.next()?.tok != Tok::RParen {
                    return err(col, "unclosed '(': missing ')'");
                }
                e
            }
            Tok::Quoted(s) => {
                let words: Vec<String> = tokenize(&s).into_iter().map(|t| t.text).collect();
                if words.is_empty() {
                    return err(col, "the phrase contains no letters or digits");
                }
                Expr::Phrase(words)
            }
            Tok::Word(w) => word_expr(&w, col)?,
            Tok::Field { name, value } => Expr::Field { name, value },
            Tok::RParen => return err(col, "unexpected ')' without a matching '('"),
            Tok::And => return err(col, "AND needs a term before it"),
            Tok::Or => return err(col, "OR needs a term before it"),
            Tok::Near(n) => return err(col, format!("NEAR/{n} needs a term before it")),
            Tok::Not | Tok::End => return err(col, "expected a term"),
        };
        Ok((e, col))
    }
}

/// Parses a query; see the [module documentation](super) for the language.
///
/// # Errors
///
/// A [`QueryError`] with the 1-based character column of the first problem.
pub fn parse(input: &str, opts: &ParseOptions) -> Result<Expr, QueryError> {
    let mut p = Parser {
        lex: Lexer {
            chars: input.chars().collect(),
            pos: 0,
            opts,
            peeked: None,
        },
        depth: 0,
    };
    if p.lex.peek()?.tok == Tok::End {
        return err(1, "empty query");
    }
    let (e, _) = p.or()?;
    let rest = p.lex.next()?;
    match rest.tok {
        Tok::End => Ok(e),
        Tok::RParen => err(rest.col, "unexpected ')' without a matching '('"),
        _ => err(rest.col, "unexpected input"),
    }
}
