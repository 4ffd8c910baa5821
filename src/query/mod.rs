//! The `match` query language: parsing, canonical printing and matching.
//!
//! ```text
//! ("acme" OR "acme corp" OR #acme OR @acme) AND NOT "road runner"
//! ```
//!
//! # Language
//!
//! | syntax | meaning |
//! | --- | --- |
//! | `acme` | the word `acme` (also as `#acme` / `@acme`), not `acmeology` |
//! | `"acme corp"` | the words at consecutive positions (punctuation between them is ignored) |
//! | `#acme`, `@acme` | the word written right after `#` / `@` (a hashtag / handle) |
//! | `acm*` | any word starting with `acm` (including hashtags and handles) |
//! | `a NEAR/3 b` | two different words `a` and `b` at most 3 positions apart, either order |
//! | `a AND b`, `a b` | both |
//! | `a OR b` | either |
//! | `NOT a`, `-a` | not `a` |
//! | `( … )` | grouping |
//! | `name:value`, `name:"v w"` | a field filter, only where fields are allowed (search) |
//!
//! Design decisions:
//!
//! * **Folding.** Words are compared after [`crate::text::fold`]: case-insensitive, without
//!   diacritics (`cafe` matches "Café", `strasse` matches "Straße"). Queries and texts are
//!   split by the same tokenizer, [`crate::text::tokenize`], so word boundaries agree: a term
//!   that the tokenizer splits into several words (`at&t`, `e-mail`, `a:b` where fields are not
//!   allowed, a CJK word — each Han/kana character is a word) is a phrase.
//! * **Operators** are uppercase only: `and`, `or`, `not`, `near/2` are ordinary words.
//!   `-` right before a term, quote or parenthesis is shorthand for `NOT`.
//! * **Precedence**, tightest first: `NOT` > `NEAR` > `AND` (explicit or by juxtaposition) >
//!   `OR`. So `a OR b c` is `a OR (b AND c)` and `NOT a NEAR/2 b` is an error (write
//!   `NOT (a NEAR/2 b)`).
//! * **`NEAR/n`** is binary and unordered between single words, hashtags, handles or prefixes
//!   (a phrase, group, `NOT` or a chain `a NEAR/1 b NEAR/1 c` is an error). It matches when an
//!   occurrence of one side and a *different* token matching the other side have positions at
//!   most `n` apart (`NEAR/1` = adjacent). `n` is a whole number ≥ 1.
//! * **Prefix `*`** only at the end of a single word with at least one letter or digit before
//!   it; `*` anywhere else is an error, and prefixes of hashtags are not supported. Inside
//!   quotes everything is literal text (punctuation, `*` included, only separates words).
//! * **Quoted strings** may contain `\"` and `\\`.
//! * **Hashtags/handles** must be one word (`#at&t` is an error). A plain term also matches
//!   the tagged word. A sigil counts only when it starts the text or follows a non-word
//!   character (`bob@acme.com` is not a handle `@acme`).
//! * **Only `NOT`** is allowed: `NOT spam` matches every text without `spam`.
//! * **Fields**: with [`ParseOptions::allow_fields`] non-empty, a word `name:value` whose
//!   `name` looks like an identifier is a field filter; a name not in the list is an error
//!   that names the allowed fields (quote the text to search it literally). The name matches
//!   case-insensitively. With no allowed fields, `a:b` is the phrase `"a b"`.
//!   [`Expr::matches`] treats field filters as false; use [`Expr::matches_with`] to decide
//!   them.
//! * **Errors** ([`QueryError`]) carry a 1-based *character* column: empty query, unbalanced
//!   parentheses or quotes, an operator without an operand, `NEAR` without `/n`, a misplaced
//!   `*`, a term with no letters or digits, an unknown field, nesting deeper than 100.
//!
//! # Matching many queries
//!
//! [`QuerySet`] matches a text against many queries at once; see its documentation for the
//! prefilter scheme.

mod ast;
mod matcher;
mod parser;
pub mod settings;
#[cfg(test)]
mod tests;

pub use ast::Expr;
pub use matcher::{Analyzed, QuerySet, analyze};
pub use parser::parse;

/// Options of [`parse`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions<'a> {
    /// Field names accepted as `name:value` filters (the search command); empty for `match`
    /// queries.
    pub allow_fields: &'a [&'a str],
}

/// A syntax error in a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based character column where the problem is.
    pub column: usize,
    /// What is wrong, for humans.
    pub message: String,
}

impl std::str::FromStr for Expr {
    type Err = QueryError;

    /// Parses a `match` query (no field filters).
    fn from_str(s: &str) -> Result<Expr, QueryError> {
        parse(s, &ParseOptions::default())
    }
}

/// The word sequences the query looks for: the folded words of terms and phrases, and tags
/// without their sigil, that are not negated (under an even number of `NOT`s), in query
/// order, without duplicates. Prefixes and field filters are left out.
///
/// Used to derive search terms for APIs and to mask brand names in sentiment scoring.
pub fn positive_terms(e: &Expr) -> Vec<Vec<String>> {
    fn walk(e: &Expr, negated: bool, out: &mut Vec<Vec<String>>) {
        let mut add = |words: Vec<String>| {
            if !negated && !out.contains(&words) {
                out.push(words);
            }
        };
        match e {
            Expr::Phrase(words) => add(words.clone()),
            Expr::Tag { text, .. } => add(vec![text.clone()]),
            Expr::Prefix(_) | Expr::Field { .. } => {}
            Expr::Near { left, right, .. } => {
                walk(left, negated, out);
                walk(right, negated, out);
            }
            Expr::And(children) | Expr::Or(children) => {
                children.iter().for_each(|c| walk(c, negated, out));
            }
            Expr::Not(child) => walk(child, !negated, out),
        }
    }
    let mut out = Vec::new();
    walk(e, false, &mut out);
    out
}
