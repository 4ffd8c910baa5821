//! A monitored query (`queries/*.toml`) as the matcher, the API pollers and the reports use
//! it, once the config loader has read and checked it.

use crate::query::{Expr, ParseOptions};
use std::collections::HashSet;
use std::path::PathBuf;

/// A monitored query, compiled.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    pub name: String,
    pub file: PathBuf,
    pub match_text: String,
    pub expr: Expr,
    /// ISO 639-1 codes; empty = any language.
    pub languages: Vec<String>,
    /// Source names; empty = all sources.
    pub sources: Vec<String>,
    /// What API pollers send to search endpoints.
    pub search_terms: Vec<String>,
    /// How people call it (reports, UI); `name` when the file does not say.
    pub display_name: String,
}

impl QueryConfig {
    /// Builds a query from its `match` text alone (tests, `hark classify --query` on ad-hoc
    /// queries).
    pub fn from_match(
        name: &str,
        match_text: &str,
    ) -> Result<QueryConfig, crate::query::QueryError> {
        let expr = crate::query::parse(match_text, &ParseOptions::default())?;
        let search_terms = derive_search_terms(&expr);
        Ok(QueryConfig {
            name: name.to_string(),
            display_name: name.to_string(),
            file: PathBuf::new(),
            match_text: match_text.to_string(),
            expr,
            languages: vec![],
            sources: vec![],
            search_terms,
        })
    }

    /// The folded token sequences that carry no sentiment in mentions of this query.
    pub fn neutral_terms(&self) -> Vec<Vec<String>> {
        crate::query::positive_terms(&self.expr)
    }
}

pub(crate) fn derive_search_terms(expr: &Expr) -> Vec<String> {
    let mut seen = HashSet::new();
    crate::query::positive_terms(expr)
        .into_iter()
        .map(|t| t.join(" "))
        .filter(|t| !t.is_empty() && seen.insert(t.clone()))
        .collect()
}
