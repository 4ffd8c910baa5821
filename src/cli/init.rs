//! `hark init [DIR] [--brand NAME] [--competitor NAME]... [--lang fr,ru]`: a starter
//! deployment for *your* brand — a query per brand and competitor (name, handle and hashtag
//! variants), a negative-spike alert and a crisis-keyword alert in the chosen languages,
//! sources that need no credentials (news search feeds per language, Hacker News, Reddit
//! search, Mastodon hashtags), and commented-out blocks for every other source saying where
//! its credentials come from.

use super::usage;
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  hark init acme-watch --brand \"Acme\" --competitor \"Globex\" --lang fr,de\n  hark --config acme-watch/hark.toml run --once"
)]
pub struct InitArgs {
    /// Where to write hark.toml, queries/ and alerts/.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// The brand to monitor (default: "Acme", an example to edit).
    #[arg(long, value_name = "NAME")]
    pub brand: Option<String>,
    /// A competitor to monitor for share of voice (repeatable).
    #[arg(long, value_name = "NAME")]
    pub competitor: Vec<String>,
    /// Languages of the markets to watch, besides English (ISO 639-1, comma-separated):
    /// news feeds and crisis words in each.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub lang: Vec<String>,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

/// Crisis words per language for the keyword alert.
const CRISIS_WORDS: &[(&str, &str)] = &[
    (
        "en",
        r#"outage OR "data breach" OR hacked OR lawsuit OR scam OR fraud OR recall OR boycott OR "class action""#,
    ),
    (
        "fr",
        r#"panne OR "fuite de données" OR piratage OR arnaque OR fraude OR rappel OR boycott OR plainte"#,
    ),
    (
        "de",
        r#"Ausfall OR Datenleck OR gehackt OR Betrug OR Rückruf OR Boykott OR Klage OR Sammelklage"#,
    ),
    (
        "es",
        r#"caída OR "filtración de datos" OR hackeo OR estafa OR fraude OR boicot OR demanda"#,
    ),
    (
        "it",
        r#"guasto OR disservizio OR "violazione dei dati" OR truffa OR frode OR richiamo OR boicottaggio"#,
    ),
    (
        "pt",
        r#""fora do ar" OR "vazamento de dados" OR golpe OR fraude OR recall OR boicote OR processo"#,
    ),
    (
        "ru",
        r#"сбой OR утечка OR взлом OR мошенничество OR обман OR бойкот OR суд"#,
    ),
];

/// Google News search locale per language (hl, gl, ceid).
fn news_locale(lang: &str) -> (&'static str, &'static str, &'static str) {
    match lang {
        "fr" => ("fr", "FR", "FR:fr"),
        "de" => ("de", "DE", "DE:de"),
        "es" => ("es", "ES", "ES:es"),
        "it" => ("it", "IT", "IT:it"),
        "pt" => ("pt-BR", "BR", "BR:pt-419"),
        "ru" => ("ru", "RU", "RU:ru"),
        _ => ("en-US", "US", "US:en"),
    }
}

pub fn run(a: &InitArgs) -> anyhow::Result<()> {
    let brand = a.brand.clone().unwrap_or_else(|| "Acme".to_string());
    let mut langs = vec!["en".to_string()];
    for l in &a.lang {
        let l = l.trim().to_ascii_lowercase();
        if l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(usage(format!(
                "--lang: `{l}` is not a two-letter ISO 639-1 code"
            )));
        }
        if !langs.contains(&l) {
            langs.push(l);
        }
    }
    let names: Vec<&str> = std::iter::once(brand.as_str())
        .chain(a.competitor.iter().map(String::as_str))
        .collect();
    let mut slugs = Vec::new();
    for n in &names {
        let s = slug(n);
        if s.is_empty() {
            return Err(usage(format!(
                "`{n}` has no letters or digits to name a query by"
            )));
        }
        if slugs.contains(&s) {
            return Err(usage(format!("`{n}` is given twice")));
        }
        slugs.push(s);
    }
    let files = starter(&names, &slugs, &langs);
    if !a.force
        && let Some((f, _)) = files.iter().find(|(f, _)| a.dir.join(f).exists())
    {
        return Err(usage(format!(
            "{} already exists (use --force to overwrite)",
            a.dir.join(f).display()
        )));
    }
    for (f, text) in &files {
        let path = a.dir.join(f);
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        std::fs::write(&path, text)?;
        println!("{}", path.display());
    }
    let config = a.dir.join("hark.toml");
    if a.brand.is_none() {
        eprintln!(
            "No --brand given: the starter watches \"Acme\" as an example. Rerun with --brand \"Your brand\" --force, or edit queries/."
        );
    }
    eprintln!(
        "Next:\n  hark --config {c} run --once      # collect once and print a summary\n  hark --config {c} search --query {q}   # what was found\n  hark --config {c} serve           # the dashboard on http://127.0.0.1:8080\nSources that need credentials are commented out in hark.toml, with where to get them.",
        c = config.display(),
        q = slugs[0],
    );
    Ok(())
}

/// A query and file name for a brand: lower-case letters and digits joined by `-`.
fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The `match` expression for a name: the name as a phrase, its hashtag and its handle.
fn match_expr(name: &str) -> String {
    let phrase: String = name.chars().filter(|c| *c != '"').collect::<String>();
    let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
    let tag: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let mut parts = vec![format!("\"{phrase}\"")];
    if !tag.is_empty() {
        parts.push(format!("#{tag}"));
        parts.push(format!("@{tag}"));
    }
    parts.join(" OR ")
}

fn starter(names: &[&str], slugs: &[String], langs: &[String]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    files.push(("hark.toml".to_string(), hark_toml(names, slugs, langs)));
    for (name, slug) in names.iter().zip(slugs) {
        let mut q = String::new();
        let _ = writeln!(
            q,
            "# A monitored name. `match` uses hark's query language: terms, \"phrases\", AND, OR, NOT,"
        );
        let _ = writeln!(
            q,
            "# parentheses, #hashtag, @handle, NEAR/n, trailing * for prefixes. Case and diacritics"
        );
        let _ = writeln!(
            q,
            "# are ignored; words match whole words only. Exclude look-alikes with AND NOT \"...\"."
        );
        let _ = writeln!(q, "name = {}", toml_str(slug));
        let _ = writeln!(q, "display_name = {}", toml_str(name));
        let _ = writeln!(q, "match = {}", toml_str(&match_expr(name)));
        let _ = writeln!(
            q,
            "# languages = [\"en\"]     # only these languages (default: any)"
        );
        let _ = writeln!(
            q,
            "# search_terms = [{}]   # what API sources search for (default: derived from match)",
            toml_str(name)
        );
        files.push((format!("queries/{slug}.toml"), q));
    }
    let brand = &slugs[0];
    let channels = "\n# Where alerts go. Without channels, alerts are recorded and shown in `hark serve` and\n# `hark alerts list`. E-mail needs [smtp] in hark.toml.\n# [[channels]]\n# type = \"email\"\n# to = [\"pr-team@example.com\"]\n#\n# [[channels]]\n# type = \"webhook\"\n# url = \"https://hooks.slack.com/services/...\"\n# format = \"slack\"            # json | slack | teams | discord\n";
    files.push((
        format!("alerts/{brand}-negative-spike.toml"),
        format!(
            "# Alert when negative mentions of {n} spike above what their history predicts.\nname = {r}\nquery = {q}\nkind = \"negative_spike\"\nwindow = \"1h\"               # the window that is tested\nbaseline = \"7d\"             # the history it is compared with\nsensitivity = \"medium\"      # low | medium | high\n{channels}",
            n = names[0],
            r = toml_str(&format!("{brand}-negative-spike")),
            q = toml_str(brand),
        ),
    ));
    let words: Vec<&str> = langs
        .iter()
        .filter_map(|l| CRISIS_WORDS.iter().find(|(c, _)| c == l).map(|(_, w)| *w))
        .collect();
    files.push((
        format!("alerts/{brand}-crisis-keywords.toml"),
        format!(
            "# Every new mention of {n} that also names a crisis is alerted at once.\nname = {r}\nquery = {q}\nkind = \"keyword\"\nmatch = {m}\ncooldown = \"30m\"\n{channels}",
            n = names[0],
            r = toml_str(&format!("{brand}-crisis-keywords")),
            q = toml_str(brand),
            m = toml_str(&words.iter().map(|w| format!("({w})")).collect::<Vec<_>>().join(" OR ")),
        ),
    ));
    files
}

fn hark_toml(names: &[&str], slugs: &[String], langs: &[String]) -> String {
    let mut t = String::new();
    t.push_str(include_str!("init_header.toml"));
    // News search feeds: one per name and language.
    let mut urls = Vec::new();
    for name in names {
        for l in langs {
            let (hl, gl, ceid) = news_locale(l);
            let q: String =
                url::form_urlencoded::byte_serialize(format!("\"{name}\"").as_bytes()).collect();
            urls.push(format!(
                "https://news.google.com/rss/search?q={q}&hl={hl}&gl={gl}&ceid={ceid}"
            ));
        }
    }
    let hn: Vec<String> = names
        .iter()
        .map(|n| {
            let q: String = url::form_urlencoded::byte_serialize(n.as_bytes()).collect();
            format!("https://hnrss.org/newest?q={q}")
        })
        .collect();
    let list = |v: &[String]| {
        v.iter()
            .map(|u| format!("  {},\n", toml_str(u)))
            .collect::<String>()
    };
    let tags: Vec<String> = slugs
        .iter()
        .map(|s| toml_str(&s.replace('-', "")))
        .collect();
    let _ = write!(
        t,
        r#"
# ---- Sources that need no credentials --------------------------------------------------

# News search feeds, one per name and language (any RSS/Atom/JSON Feed URL works here).
[[sources]]
name = "news"
kind = "feed"
interval = "15m"
urls = [
{news}]

[[sources]]
name = "hackernews"
kind = "hackernews"         # Algolia search API: stories and comments naming the queries
interval = "10m"

[[sources]]
name = "hn-rss"
kind = "feed"
interval = "30m"
urls = [
{hn}]

[[sources]]
name = "reddit"
kind = "reddit"             # public search; set client_id_env/client_secret_env for OAuth
interval = "15m"

[[sources]]
name = "mastodon"
kind = "mastodon"
base_url = "https://mastodon.social"
interval = "15m"
tags = [{tags}]       # hashtag timelines; full-text search needs `token_env`

[[sources]]
name = "stackoverflow"
kind = "stackexchange"
site = "stackoverflow"
interval = "1h"             # 300 requests/day without `key_env`

# Public Telegram channels that write about you (no account needed): their names.
# [[sources]]
# name = "telegram"
# kind = "telegram"
# channels = ["channel_name"]

# ---- Sources that need credentials: set the variable, then uncomment ---------------------

# Bluesky: an app password (bsky.app → Settings → Privacy and security → App passwords).
# [[sources]]
# name = "bluesky"
# kind = "bluesky"
# identifier = "you.bsky.social"
# password_env = "HARK_BSKY_APP_PASSWORD"

# YouTube Data API v3: an API key (console.cloud.google.com → APIs & Services → Credentials).
# [[sources]]
# name = "youtube"
# kind = "youtube"
# interval = "1h"           # 10,000 units/day; a search costs 100
# key_env = "HARK_YOUTUBE_KEY"

# X (Twitter) API v2 recent search: a bearer token (developer.x.com → Projects & Apps).
# [[sources]]
# name = "x"
# kind = "x"
# token_env = "HARK_X_BEARER"

# VK: a service token (dev.vk.com → My apps → Create → Service token).
# [[sources]]
# name = "vk"
# kind = "vk"
# token_env = "HARK_VK_TOKEN"

# Discourse forums: search.json of any public forum.
# [[sources]]
# name = "forum"
# kind = "discourse"
# base_url = "https://forum.example.com"

# Your own channels: every review or comment there is about you (`queries` assigns it
# without the brand's name having to appear). App Store and Google Play need no key.
# [[sources]]
# name = "app-reviews-ios"
# kind = "appstore"
# apps = ["123456789"]      # the digits after `id` in the app's App Store URL
# countries = ["us", "gb"]
# queries = [{brand}]
#
# [[sources]]
# name = "app-reviews-android"
# kind = "googleplay"
# apps = ["com.example.app"]
# queries = [{brand}]
#
# Trustpilot: an API key (Trustpilot Business → Integrations → API).
# [[sources]]
# name = "trustpilot"
# kind = "trustpilot"
# businesses = ["<24-hex business unit id>"]
# key_env = "HARK_TRUSTPILOT_KEY"
# queries = [{brand}]
#
# Your Facebook page's posts and comments: a Page access token.
# [[sources]]
# name = "facebook"
# kind = "facebook"
# pages = ["your.page"]
# token_env = "HARK_FACEBOOK_PAGE_TOKEN"
# queries = [{brand}]

# A forum or site without an API or feed, crawled politely (robots.txt, delays).
# [[sources]]
# name = "community"
# kind = "web"
# seeds = ["https://community.example.com/"]
# max_depth = 2
# max_pages = 300
# delay = "2s"
# forum = "auto"
"#,
        news = list(&urls),
        hn = list(&hn),
        tags = tags.join(", "),
        brand = toml_str(&slugs[0]),
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_expressions_and_slugs() {
        assert_eq!(match_expr("Acme"), r#""Acme" OR #acme OR @acme"#);
        assert_eq!(
            match_expr("Ben & Jerry's"),
            r#""Ben & Jerry's" OR #benjerrys OR @benjerrys"#
        );
        assert_eq!(slug("Ben & Jerry's"), "ben-jerry-s");
        assert_eq!(slug("Яндекс Go"), "яндекс-go");
        for n in ["Acme", "Ben & Jerry's", "Яндекс Go", "say \"hi\""] {
            crate::query::parse(&match_expr(n), &crate::query::ParseOptions::default())
                .unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }
}
