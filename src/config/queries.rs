//! `queries/*.toml`: monitored queries.

use super::*;

// ---------------------------------------------------------------------------------------------
// queries/*.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryFile {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(rename = "match")]
    match_: Spanned<String>,
    #[serde(default)]
    languages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    sources: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    search_terms: Option<Vec<String>>,
    /// How people call it ("Acme Corp"), for reports and the UI; default: `name`.
    #[serde(default)]
    display_name: Option<String>,
}

/// Where inside a TOML string literal a query column falls: after the opening quote(s).
fn match_offset(text: &str, span_start: usize, column: usize) -> usize {
    let rest = &text[span_start..];
    let quote_len = if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    let body = &rest[quote_len.min(rest.len())..];
    let byte_in_body: usize = body
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    span_start + quote_len + byte_in_body
}

pub(super) fn parse_match(
    file: &SourceFile,
    value: &Spanned<String>,
    opts: &ParseOptions,
) -> Result<Expr, ConfigError> {
    query::parse(value.get_ref(), opts).map_err(|e| {
        file.error_at(
            Some(match_offset(file.text, value.span().start, e.column)),
            format!(
                "invalid `match` (column {} of the expression): {}",
                e.column, e.message
            ),
        )
    })
}

pub(super) fn load_query_file(
    path: &Path,
    sources: &[SourceConfig],
) -> Result<QueryConfig, ConfigError> {
    let text = read_file(path)?;
    let file = SourceFile { path, text: &text };
    let q: QueryFile = file.parse()?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = q
        .name
        .as_ref()
        .map(|n| n.get_ref().trim().to_string())
        .unwrap_or(stem);
    if name.is_empty() {
        return Err(file.error_at(
            q.name.as_ref().map(|n| n.span().start),
            "query `name` is empty",
        ));
    }
    let expr = parse_match(&file, &q.match_, &ParseOptions::default())?;
    let mut languages = Vec::new();
    if let Some(langs) = &q.languages {
        for l in langs.get_ref() {
            let l = l.trim().to_ascii_lowercase();
            if l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()) {
                return Err(file.error_at(
                    Some(langs.span().start),
                    format!(
                        "`languages`: `{l}` is not an ISO 639-1 code (two letters, e.g. \"en\")"
                    ),
                ));
            }
            languages.push(l);
        }
    }
    let mut source_names = Vec::new();
    if let Some(srcs) = &q.sources {
        let known: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        for s in srcs.get_ref() {
            if !known.contains(&s.as_str()) && !source_kinds().contains(&s.as_str()) {
                let mut msg = format!("`sources`: no source named `{s}` in hark.toml");
                msg.push_str(&did_you_mean(s, &known));
                return Err(file.error_at(Some(srcs.span().start), msg));
            }
            source_names.push(s.clone());
        }
    }
    let search_terms = match q.search_terms {
        Some(t) => t,
        None => derive_search_terms(&expr),
    };
    let display_name = q
        .display_name
        .as_deref()
        .map(crate::display::one_line)
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| name.clone());
    Ok(QueryConfig {
        display_name,
        name,
        file: path.to_path_buf(),
        match_text: q.match_.into_inner(),
        expr,
        languages,
        sources: source_names,
        search_terms,
    })
}
