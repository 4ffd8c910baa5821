//! Typed settings read from a TOML table whose keys and values remember where they are.
//!
//! A `[[sources]]` entry is one table, but its keys belong to several owners: the loader
//! (`name`, `kind`, `interval`, ...), the API paging settings, and the kind's own settings
//! struct (`sources/reddit.rs` has `RedditConfig`). serde's internally tagged enums buffer
//! the table and lose TOML positions, so the loader reads the entry as spanned key/value
//! pairs, hands each owner its keys through [`Fields`], and every error — an unknown key, a
//! value of the wrong type, a failed check — still points at the file, line and column.
//!
//! This module knows nothing of hark's components; `config` and `sources` both use it.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use std::fmt;
use std::time::Duration;
use toml::Spanned;

/// A table read with the positions of its keys and values.
pub type Table = std::collections::BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// One key of a [`Table`] with its value.
pub type Field<'a> = (&'a Spanned<String>, &'a Spanned<toml::Value>);

/// Why a table could not be read into a settings struct. Each variant names the key it is
/// about where there is one, so that the loader can point at it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FieldError {
    #[error("unknown key `{key}`")]
    Unknown {
        key: String,
        /// The keys the struct takes.
        expected: &'static [&'static str],
    },
    #[error("missing key `{0}`")]
    Missing(&'static str),
    /// A value that is not what the key takes (wrong type, out of range, a failed check).
    #[error("{message}")]
    Value { key: String, message: String },
    /// A problem of the table as a whole.
    #[error("{0}")]
    Table(String),
}

impl FieldError {
    /// A value problem of `key`; `message` is shown as it is (it names the key itself).
    pub fn invalid(key: &str, message: impl Into<String>) -> FieldError {
        FieldError::Value {
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// The key the error is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            FieldError::Unknown { key, .. } | FieldError::Value { key, .. } => Some(key),
            FieldError::Missing(k) => Some(k),
            FieldError::Table(_) => None,
        }
    }
}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError::Table(msg.to_string())
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        FieldError::Unknown {
            key: field.to_string(),
            expected,
        }
    }
    fn missing_field(field: &'static str) -> Self {
        FieldError::Missing(field)
    }
}

/// Some keys of a table, readable as any `Deserialize` struct (or map).
pub struct Fields<'a> {
    fields: Vec<Field<'a>>,
}

impl<'a> Fields<'a> {
    pub fn new(fields: impl IntoIterator<Item = Field<'a>>) -> Fields<'a> {
        Fields {
            fields: fields.into_iter().collect(),
        }
    }

    /// Reads the keys into `T`.
    pub fn read<T: DeserializeOwned>(self) -> Result<T, FieldError> {
        T::deserialize(self)
    }
}

impl<'de> de::Deserializer<'de> for Fields<'_> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(FieldsAccess {
            fields: self.fields.into_iter(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct FieldsAccess<'a> {
    fields: std::vec::IntoIter<Field<'a>>,
    current: Option<Field<'a>>,
}

impl<'de> MapAccess<'de> for FieldsAccess<'_> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        let Some(field) = self.fields.next() else {
            return Ok(None);
        };
        self.current = Some(field);
        let key: &str = field.0.get_ref();
        seed.deserialize(IntoDeserializer::<FieldError>::into_deserializer(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        let field = self
            .current
            .take()
            .ok_or_else(|| FieldError::Table("a value without its key".into()))?;
        let key = field.0.get_ref();
        seed.deserialize(field.1.get_ref().clone())
            .map_err(|e: toml::de::Error| FieldError::Value {
                key: key.clone(),
                message: format!("`{key}`: {}", e.message().trim()),
            })
    }
}

/// The field names of a settings struct, as its `Deserialize` derive declares them (for
/// "did you mean" and "this key belongs to another kind" messages).
pub fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = FieldError;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, FieldError> {
            Err(FieldError::Table("not a struct".into()))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, FieldError> {
            *self.0 = fields;
            Err(FieldError::Table("probed".into()))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// The name of an environment variable holding a secret (`token_env = "HARK_TOKEN"`).
/// Anything that does not look like a variable name is refused: it is probably the secret
/// itself, which never belongs in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar(pub String);

impl EnvVar {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for EnvVar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let name = s.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(de::Error::custom(
                "names an environment variable (e.g. \"HARK_TOKEN\"), not the secret itself",
            ));
        }
        Ok(EnvVar(name.to_string()))
    }
}

/// A period written as `90s`, `15m`, `2h`, `7d`, `1h30m` (or `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(pub Duration);

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim() == "0" {
            return Ok(Period(Duration::ZERO));
        }
        crate::timeutil::parse_duration(&s)
            .map(Period)
            .map_err(de::Error::custom)
    }
}

/// A size written as `512KB`, `10MB`, `1GB`, or a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s).map(ByteSize).map_err(de::Error::custom)
    }
}

/// Why a size is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SizeError {
    #[error("invalid size `{0}` (e.g. `10MB`)")]
    NotANumber(String),
    #[error("invalid size `{0}`: unknown unit (use B, KB, MB or GB)")]
    Unit(String),
    #[error("invalid size `{0}`: too large")]
    TooLarge(String),
}

/// Parses `512KB`, `10MB`, `1GB`, or a plain number of bytes.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| SizeError::NotANumber(s.into()))?;
    let mult = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "KIB" | "K" => 1024,
        "MB" | "MIB" | "M" => 1024 * 1024,
        "GB" | "GIB" | "G" => 1024 * 1024 * 1024,
        _ => return Err(SizeError::Unit(s.into())),
    };
    n.checked_mul(mult)
        .ok_or_else(|| SizeError::TooLarge(s.into()))
}

/// Trims each name, drops a leading `prefix` (`r/`, `#`, `@`) and empty names: the lists
/// of names users write in sources (`subreddits`, `tags`, `accounts`).
pub fn clean_names(names: &mut Vec<String>, prefix: &str) {
    for n in names.iter_mut() {
        let t = n.trim();
        *n = t.strip_prefix(prefix).unwrap_or(t).trim().to_string();
    }
    names.retain(|n| !n.is_empty());
}

/// The closest candidate by edit distance, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4) || c.starts_with(word) && word.len() >= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ", did you mean `x`?" when a candidate is close to `word`, else nothing.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    suggest(word, candidates)
        .map(|b| format!(", did you mean `{b}`?"))
        .unwrap_or_default()
}

/// Why a URL in a config is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UrlError {
    #[error("invalid URL `{url}`: {source}")]
    Parse {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("invalid URL `{0}`: only http and https are supported")]
    Scheme(String),
}

/// An absolute http(s) URL.
pub fn parse_http_url(s: &str) -> Result<url::Url, UrlError> {
    let u = url::Url::parse(s).map_err(|source| UrlError::Parse {
        url: s.to_string(),
        source,
    })?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(UrlError::Scheme(s.to_string()));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        count: usize,
        #[serde(default)]
        names: Vec<String>,
        token_env: Option<EnvVar>,
        every: Option<Period>,
    }

    #[derive(Deserialize)]
    struct Doc {
        entry: Table,
    }

    fn entry(text: &str) -> (String, Table) {
        let doc: Doc = toml::from_str(text).unwrap();
        (text.to_string(), doc.entry)
    }

    #[test]
    fn reads_typed_values_and_names_the_failing_key() {
        let (_, fields) = entry(
            "[entry]\ncount = 3\nnames = [\"a\"]\ntoken_env = \"HARK_T\"\nevery = \"1h30m\"\n",
        );
        let s: Sample = Fields::new(&fields).read().unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(s.token_env, Some(EnvVar("HARK_T".into())));
        assert_eq!(s.every, Some(Period(Duration::from_secs(5400))));

        let (text, fields) = entry("[entry]\ncount = \"x\"\n");
        let e = Fields::new(&fields).read::<Sample>().unwrap_err();
        assert_eq!(e.key(), Some("count"));
        assert!(e.to_string().starts_with("`count`: invalid type"), "{e}");
        // The key is found again by name, with its position.
        let (at, _) = fields.iter().find(|f| f.0.get_ref() == "count").unwrap();
        assert_eq!(&text[at.span()], "count");

        let (_, fields) = entry("[entry]\ncount = 1\ntoken_env = \"sk-live secret\"\n");
        let e = Fields::new(&fields).read::<Sample>().unwrap_err();
        assert_eq!(e.key(), Some("token_env"));
        assert!(e.to_string().contains("not the secret itself"), "{e}");

        let (_, fields) = entry("[entry]\ncount = 1\ncont = 2\n");
        match Fields::new(&fields).read::<Sample>().unwrap_err() {
            FieldError::Unknown { key, expected } => {
                assert_eq!(key, "cont");
                assert!(expected.contains(&"count"));
            }
            e => panic!("{e:?}"),
        }
        let (_, fields) = entry("[entry]\nnames = []\n");
        assert_eq!(
            Fields::new(&fields).read::<Sample>().unwrap_err(),
            FieldError::Missing("count")
        );
    }

    #[test]
    fn struct_fields_lists_what_the_derive_declares() {
        assert_eq!(
            struct_fields::<Sample>(),
            &["count", "names", "token_env", "every"]
        );
    }

    #[test]
    fn sizes_and_names() {
        assert_eq!(parse_size("10MB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("7"), Ok(7));
        assert!(matches!(parse_size("3 parsecs"), Err(SizeError::Unit(_))));
        assert!(matches!(parse_size("MB"), Err(SizeError::NotANumber(_))));
        let mut v = vec![
            " r/rust ".to_string(),
            "".into(),
            "r/".into(),
            "golang".into(),
        ];
        clean_names(&mut v, "r/");
        assert_eq!(v, ["rust", "golang"]);
    }
}
