//! Unit and property tests of the query language.

use super::*;
use proptest::prelude::*;

const FIELDS: &[&str] = &["lang", "source", "since"];

fn p(s: &str) -> Expr {
    parse(s, &ParseOptions::default()).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn pf(s: &str) -> Expr {
    parse(
        s,
        &ParseOptions {
            allow_fields: FIELDS,
        },
    )
    .unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Asserts that `s` fails at `column` with a message containing `needle`.
fn fails(s: &str, column: usize, needle: &str) {
    fails_with(s, &ParseOptions::default(), column, needle);
}

fn fails_with(s: &str, opts: &ParseOptions, column: usize, needle: &str) {
    match parse(s, opts) {
        Ok(e) => panic!("{s:?} parsed as {e:?}"),
        Err(e) => {
            assert_eq!(e.column, column, "{s:?}: {e}");
            assert!(
                e.message.contains(needle),
                "{s:?}: {e} (expected {needle:?})"
            );
            assert_eq!(e.to_string(), format!("column {column}: {}", e.message));
        }
    }
}

fn t(w: &str) -> Expr {
    Expr::term(w)
}

fn ph(ws: &[&str]) -> Expr {
    Expr::Phrase(ws.iter().map(|w| w.to_string()).collect())
}

fn tag(sigil: char, w: &str) -> Expr {
    Expr::Tag {
        sigil,
        text: w.into(),
    }
}

fn not(e: Expr) -> Expr {
    Expr::Not(Box::new(e))
}

fn near(a: Expr, b: Expr, distance: u32) -> Expr {
    Expr::Near {
        left: Box::new(a),
        right: Box::new(b),
        distance,
    }
}

fn m(q: &str, text: &str) -> bool {
    p(q).matches(&analyze(text))
}

// ---------------------------------------------------------------- parsing

#[test]
fn parses_terms_phrases_tags_prefixes() {
    assert_eq!(p("Acme"), t("acme"));
    assert_eq!(p("  CAFÉ "), t("cafe"));
    assert_eq!(p("\"Acme  Corp\""), ph(&["acme", "corp"]));
    assert_eq!(p("AT&T"), ph(&["at", "t"]));
    assert_eq!(p("e-mail"), ph(&["e", "mail"]));
    assert_eq!(p("a:b"), ph(&["a", "b"]));
    assert_eq!(p("日本"), ph(&["日", "本"]));
    assert_eq!(p("#Acme"), tag('#', "acme"));
    assert_eq!(p("@acme_corp"), tag('@', "acme_corp"));
    assert_eq!(p("＃acme"), tag('#', "acme"));
    assert_eq!(p("#acme,"), tag('#', "acme"));
    assert_eq!(p("acm*"), Expr::Prefix("acm".into()));
    assert_eq!(p("Café*"), Expr::Prefix("cafe".into()));
    assert_eq!(p(r#""say \"hi\" \\ now""#), ph(&["say", "hi", "now"]));
    assert_eq!(p("\"acme*\""), t("acme"));
}

#[test]
fn parses_operators_and_precedence() {
    assert_eq!(p("a AND b"), Expr::And(vec![t("a"), t("b")]));
    assert_eq!(p("a b c"), Expr::And(vec![t("a"), t("b"), t("c")]));
    assert_eq!(p("a OR b OR c"), Expr::Or(vec![t("a"), t("b"), t("c")]));
    assert_eq!(
        p("a OR b c"),
        Expr::Or(vec![t("a"), Expr::And(vec![t("b"), t("c")])])
    );
    assert_eq!(
        p("a b OR c"),
        Expr::Or(vec![Expr::And(vec![t("a"), t("b")]), t("c")])
    );
    assert_eq!(p("NOT a b"), Expr::And(vec![not(t("a")), t("b")]));
    assert_eq!(p("NOT NOT a"), not(not(t("a"))));
    assert_eq!(
        p("-a -\"b c\" -(d)"),
        Expr::And(vec![not(t("a")), not(ph(&["b", "c"])), not(t("d"))])
    );
    assert_eq!(p("a NEAR/3 b"), near(t("a"), t("b"), 3));
    assert_eq!(
        p("x a NEAR/3 #b OR y"),
        Expr::Or(vec![
            Expr::And(vec![t("x"), near(t("a"), tag('#', "b"), 3)]),
            t("y")
        ])
    );
    assert_eq!(
        p("ac* NEAR/1 @b"),
        near(Expr::Prefix("ac".into()), tag('@', "b"), 1)
    );
    assert_eq!(p("(a) NEAR/2 (b)"), near(t("a"), t("b"), 2));
    assert_eq!(p("NOT (a NEAR/2 b)"), not(near(t("a"), t("b"), 2)));
    assert_eq!(
        p("a AND (b AND c)"),
        Expr::And(vec![t("a"), Expr::And(vec![t("b"), t("c")])])
    );
    assert_eq!(p("((a))"), t("a"));
    assert_eq!(
        p("(a OR b)(c)"),
        Expr::And(vec![Expr::Or(vec![t("a"), t("b")]), t("c")])
    );
    assert_eq!(p("NOT spam"), not(t("spam")));
}

#[test]
fn lowercase_operators_are_words() {
    assert_eq!(p("a and b"), Expr::And(vec![t("a"), t("and"), t("b")]));
    assert_eq!(
        p("a or not b"),
        Expr::And(vec![t("a"), t("or"), t("not"), t("b")])
    );
    assert_eq!(
        p("a near/2 b"),
        Expr::And(vec![t("a"), ph(&["near", "2"]), t("b")])
    );
}

#[test]
fn contract_example() {
    let e = p(r#"("acme" OR "acme corp" OR #acme OR @acme) AND NOT "road runner""#);
    assert_eq!(
        e,
        Expr::And(vec![
            Expr::Or(vec![
                t("acme"),
                ph(&["acme", "corp"]),
                tag('#', "acme"),
                tag('@', "acme")
            ]),
            not(ph(&["road", "runner"])),
        ])
    );
    assert_eq!(
        e.to_string(),
        r#"(acme OR "acme corp" OR #acme OR @acme) AND NOT "road runner""#
    );
    assert!(e.matches(&analyze("Just bought an ACME anvil")));
    assert!(e.matches(&analyze("Love #Acme!")));
    assert!(!e.matches(&analyze("Acme and the Road-Runner")));
    assert!(!e.matches(&analyze("acmeology")));
    assert_eq!(
        positive_terms(&e),
        vec![vec!["acme".to_string()], vec!["acme".into(), "corp".into()]]
    );
}

#[test]
fn fields() {
    assert_eq!(
        pf("lang:en"),
        Expr::Field {
            name: "lang".into(),
            value: "en".into()
        }
    );
    assert_eq!(
        pf("LANG:en"),
        Expr::Field {
            name: "lang".into(),
            value: "en".into()
        }
    );
    assert_eq!(
        pf("source:\"My Feed\""),
        Expr::Field {
            name: "source".into(),
            value: "My Feed".into()
        }
    );
    assert_eq!(
        pf("since:2024-01-01T10:00:00Z"),
        Expr::Field {
            name: "since".into(),
            value: "2024-01-01T10:00:00Z".into()
        }
    );
    assert_eq!(
        pf("acme (lang:en OR lang:fr)"),
        Expr::And(vec![
            t("acme"),
            Expr::Or(vec![
                Expr::Field {
                    name: "lang".into(),
                    value: "en".into()
                },
                Expr::Field {
                    name: "lang".into(),
                    value: "fr".into()
                },
            ]),
        ])
    );
    assert_eq!(pf("\"lang:en\""), ph(&["lang", "en"]));
    assert_eq!(pf("12:30"), ph(&["12", "30"]));
    assert_eq!(p("lang:en"), ph(&["lang", "en"]));
    let e = pf("acme -source:spam");
    let doc = analyze("acme rocks");
    assert!(!Expr::And(vec![t("acme"), pf("lang:en")]).matches(&doc));
    assert!(e.matches(&doc));
    assert!(e.matches_with(&doc, |name, value| name == "source" && value == "ham"));
    assert!(!e.matches_with(&doc, |name, value| name == "source" && value == "spam"));
}

#[test]
fn errors_have_columns() {
    fails("", 1, "empty query");
    fails("   ", 1, "empty query");
    fails("(acme", 1, "unclosed '('");
    fails("a (b OR (c)", 3, "unclosed '('");
    fails("acme)", 5, "unexpected ')'");
    fails(")", 1, "unexpected ')'");
    fails("a \"acme corp", 3, "unclosed quote");
    fails("acme AND", 6, "AND needs a term after it");
    fails("acme OR", 6, "OR needs a term after it");
    fails("acme OR OR b", 6, "OR needs a term after it");
    fails("NOT", 1, "NOT needs a term after it");
    fails("a NOT", 3, "NOT needs a term after it");
    fails("AND acme", 1, "AND needs a term before it");
    fails("(OR a)", 2, "OR needs a term before it");
    fails("NEAR/2 a", 1, "NEAR/2 needs a term before it");
    fails("a NEAR/2", 3, "NEAR/2 needs a term after it");
    fails("café NEAR b", 6, "NEAR needs a distance");
    fails("a NEAR/x b", 3, "invalid NEAR distance");
    fails("a NEAR/ b", 3, "invalid NEAR distance");
    fails("a NEAR/0 b", 3, "at least 1");
    fails("a NEAR/99999999999 b", 3, "too large");
    fails("\"a b\" NEAR/2 c", 1, "not a phrase");
    fails("a NEAR/2 (b OR c)", 10, "not a group");
    fails("NOT a NEAR/2 b", 1, "NOT (a NEAR/3 b)");
    fails("a NEAR/2 b NEAR/2 c", 12, "cannot be chained");
    fails("a NEAR/2 e-mail", 10, "phrase");
    fails("()", 1, "empty parentheses");
    fails("*", 1, "'*' needs a word before it");
    fails("x *acme", 3, "only allowed at the end");
    fails("ac*me", 3, "only allowed at the end");
    fails("acme**", 5, "only allowed at the end");
    fails("at&t*", 1, "single word before '*'");
    fails("acme-*", 1, "single word before '*'");
    fails("#", 2, "expected a word right after '#'");
    fails("@-acme", 2, "expected a word right after '@'");
    fails("#at&t", 1, "hashtag must be a single word");
    fails("@acme.com", 1, "handle must be a single word");
    fails("#acme*", 6, "not supported on hashtags");
    fails("a - b", 3, "'-' contains no letters or digits");
    fails("a & b", 3, "'&' contains no letters or digits");
    fails("a \"!!\"", 3, "no letters or digits");
    fails("a \"\"", 3, "no letters or digits");
    fails(&"(".repeat(500), 101, "nested too deeply");
    fails(&"NOT ".repeat(500), 401, "nested too deeply");
    let opts = ParseOptions {
        allow_fields: FIELDS,
    };
    fails_with(
        "acme foo:bar",
        &opts,
        6,
        "unknown field 'foo'; allowed fields: lang, source, since",
    );
    fails_with("lang:", &opts, 1, "missing value after 'lang:'");
    fails_with("lang: en", &opts, 1, "missing value");
    fails_with("x lang:\"en", &opts, 8, "unclosed quote");
}

#[test]
fn query_error_is_std_error() {
    let e: Box<dyn std::error::Error> = Box::new(parse("(", &ParseOptions::default()).unwrap_err());
    assert_eq!(e.to_string(), "column 1: unclosed '(': missing ')'");
    assert!("a OR".parse::<Expr>().is_err());
    assert_eq!(
        "a OR b".parse::<Expr>().unwrap(),
        Expr::Or(vec![t("a"), t("b")])
    );
}

#[test]
fn display_round_trips_examples() {
    for q in [
        "a",
        "\"a b\" OR (c d) OR NOT (e OR f)",
        "NOT (a NEAR/2 #b) AND c*",
        "a AND (b AND c) OR ((d OR e) OR f)",
        "NOT NOT a",
        "lang:en source:\"a \\\"b\\\"\" since:\"\"",
    ] {
        let e = pf(q);
        assert_eq!(pf(&e.to_string()), e, "{q} -> {e}");
    }
    assert_eq!(p("a b OR c").to_string(), "a AND b OR c");
    assert_eq!(p("-a").to_string(), "NOT a");
}

// ---------------------------------------------------------------- matching

#[test]
fn matches_case_diacritics_and_boundaries() {
    assert!(m("cafe", "Un CAFÉ s'il vous plaît"));
    assert!(m("café", "un cafe\u{301} noir"));
    assert!(m("Straße", "STRASSE"));
    assert!(m("acme", "ACME, Inc."));
    assert!(!m("acme", "acmeology"));
    assert!(!m("acme", "the acme_corp team"));
    assert!(m("acme", "acme's product"));
    assert!(m("acme's", "ACME’s product"));
    assert!(m("at&t", "AT-T rocks"));
    assert!(m("日本", "日本語のテキスト"));
    assert!(!m("日本", "本日"));
    assert!(!m("acme", ""));
}

#[test]
fn matches_phrases() {
    assert!(m("\"acme corp\"", "Acme, Corp. announced"));
    assert!(!m("\"acme corp\"", "corp acme"));
    assert!(!m("\"acme corp\"", "acme big corp"));
    assert!(m("\"acme corp\"", "acme acme corp"));
    assert!(m("\"a a b\"", "a a a b"));
}

#[test]
fn matches_tags_and_handles() {
    assert!(m("#acme", "love #Acme"));
    assert!(m("#acme", "＃ACME"));
    assert!(!m("#acme", "love acme"));
    assert!(!m("#acme", "love @acme"));
    assert!(m("@acme", "cc @acme please"));
    assert!(!m("@acme", "mail bob@acme.com"));
    assert!(!m("#acme", "c#acme"));
    assert!(m("acme", "#acme"));
    assert!(m("acme", "@acme"));
    assert!(m("#acme OR @acme", "(#acme)"));
}

#[test]
fn matches_prefixes() {
    assert!(m("acm*", "ACMEOLOGY is fun"));
    assert!(m("acm*", "#acme"));
    assert!(!m("acm*", "the macme"));
    assert!(m("caf*", "Café"));
    assert!(m("straß*", "strassen"));
    assert!(!m("acm*", "ac me"));
}

#[test]
fn matches_near() {
    assert!(m("acme NEAR/1 bad", "acme bad"));
    assert!(m("acme NEAR/1 bad", "bad acme"));
    assert!(!m("acme NEAR/1 bad", "acme is bad"));
    assert!(m("acme NEAR/2 bad", "acme is bad"));
    assert!(m("acme NEAR/2 bad", "Bad, very... ACME"));
    assert!(!m("acme NEAR/2 bad", "acme"));
    assert!(m("acme NEAR/3 #fail", "acme really #fail"));
    assert!(!m("acme NEAR/3 #fail", "acme really fail"));
    assert!(m("acm* NEAR/1 bad*", "acmeco badly"));
    // NEAR relates two different tokens.
    assert!(!m("acm* NEAR/3 acme", "acme"));
    assert!(m("acm* NEAR/3 acme", "acme acmeco"));
    assert!(!m("acme NEAR/5 acme", "one acme"));
    assert!(m("acme NEAR/5 acme", "acme and acme"));
}

#[test]
fn matches_boolean() {
    assert!(m("NOT spam", "hello"));
    assert!(!m("NOT spam", "Spam!"));
    assert!(m("NOT spam", ""));
    assert!(m("a b", "b then a"));
    assert!(!m("a b", "a only"));
    assert!(m("a OR b", "b only"));
    assert!(m("a -b", "a c"));
    assert!(!m("a -b", "a b"));
}

#[test]
fn analyzed_index() {
    let a = analyze("Acme #acme, ACME and @Bob; acme");
    assert_eq!(a.len(), 6);
    assert!(!a.is_empty());
    assert_eq!(a.positions("acme").collect::<Vec<_>>(), [0, 1, 2, 5]);
    assert_eq!(a.positions("nope").count(), 0);
    assert!(a.has_tag('#', "acme"));
    assert!(!a.has_tag('@', "acme"));
    assert!(a.has_tag('@', "bob"));
    assert!(!a.has_tag('x', "bob"));
    assert_eq!(a.words().collect::<Vec<_>>(), ["acme", "and", "bob"]);
    assert_eq!(a.token(3).text, "and");
    assert_eq!(
        a.tokens().map(|t| t.to_token()).collect::<Vec<_>>(),
        crate::text::tokenize("Acme #acme, ACME and @Bob; acme")
    );
    // Many distinct words force the table to grow.
    let long: String = (0..1000).map(|i| format!("w{i} ")).collect();
    let a = analyze(&long);
    assert!((0..1000).all(|i| a.positions(&format!("w{i}")).eq([i as u32])));
}

#[test]
fn positive_terms_skip_negations_and_prefixes() {
    let e = p("acme OR (#acme NEAR/2 sucks) NOT (x OR NOT \"y z\") pre* -acme");
    assert_eq!(
        positive_terms(&e),
        [
            vec!["acme".to_string()],
            vec!["sucks".into()],
            vec!["y".into(), "z".into()]
        ]
    );
    assert!(positive_terms(&p("NOT a")).is_empty());
    assert!(positive_terms(&pf("lang:en")).is_empty());
}

#[test]
fn query_set_basics() {
    let qs = QuerySet::new(vec![
        p("acme"),
        p("NOT spam"),
        p("caf* OR #coffee"),
        p("\"road runner\""),
        p("a NEAR/2 b"),
    ]);
    assert_eq!(qs.len(), 5);
    assert!(!qs.is_empty());
    assert_eq!(qs.queries()[0], t("acme"));
    assert_eq!(qs.matching(&analyze("ACME café")), [0, 1, 2]);
    assert_eq!(qs.matching(&analyze("spam #coffee")), [2]);
    assert_eq!(qs.matching(&analyze("road runner b x a")), [1, 3, 4]);
    assert_eq!(
        QuerySet::new(Vec::new()).matching(&analyze("x")),
        Vec::<usize>::new()
    );
    let mut out = vec![99];
    qs.matching_into(&analyze(""), &mut out);
    assert_eq!(out, [1]);
}

// ---------------------------------------------------------------- properties

/// A single folded word, drawn from ASCII, a fixed list and arbitrary Unicode.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{1,8}",
        prop::sample::select(vec![
            "acme", "cafe", "日", "σ", "and", "near", "not", "が", "한국"
        ])
        .prop_map(String::from),
        any::<String>().prop_filter_map("no word", |s| crate::text::tokenize(&s)
            .into_iter()
            .next()
            .map(|t| t.text)),
    ]
}

fn near_operand() -> impl Strategy<Value = Expr> {
    prop_oneof![
        word().prop_map(Expr::term),
        word().prop_map(Expr::Prefix),
        (prop::sample::select(vec!['#', '@']), word())
            .prop_map(|(sigil, text)| Expr::Tag { sigil, text }),
    ]
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        4 => prop::collection::vec(word(), 1..4).prop_map(Expr::Phrase),
        2 => near_operand(),
        1 => (near_operand(), near_operand(), 1..1000u32)
            .prop_map(|(l, r, distance)| Expr::Near { left: Box::new(l), right: Box::new(r), distance }),
        1 => (prop::sample::select(FIELDS.to_vec()), any::<String>())
            .prop_map(|(name, value)| Expr::Field { name: name.into(), value }),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

/// Query-looking strings, to reach deep into the parser.
fn query_like() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "acme", "Café", "AND", "OR", "NOT", "NEAR/2", "NEAR", "NEAR/x", "(", ")", "\"", "\"a b\"",
        "#", "#x", "@y", "*", "ac*", "-", "lang:", "lang:en", "foo:bar", ":", "\\", "日本", "at&t",
        " ", "  ", "\t", "é", "\u{301}",
    ]);
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn display_parse_round_trip(e in expr()) {
        let shown = e.to_string();
        let back = parse(&shown, &ParseOptions { allow_fields: FIELDS });
        prop_assert_eq!(back.as_ref(), Ok(&e), "shown as {}", shown);
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        for opts in [ParseOptions::default(), ParseOptions { allow_fields: FIELDS }] {
            if let Ok(e) = parse(&s, &opts) {
                prop_assert_eq!(parse(&e.to_string(), &opts), Ok(e));
            }
        }
    }

    #[test]
    fn parse_never_panics_on_query_like_input(s in query_like()) {
        for opts in [ParseOptions::default(), ParseOptions { allow_fields: FIELDS }] {
            match parse(&s, &opts) {
                Ok(e) => prop_assert_eq!(parse(&e.to_string(), &opts), Ok(e)),
                Err(err) => prop_assert!(err.column >= 1 && err.column <= s.chars().count() + 1, "{}", err),
            }
        }
    }

    #[test]
    fn matcher_agrees_with_reference(r in ref_query(), texts in prop::collection::vec(ref_text(), 1..8)) {
        let q = render(&r);
        let e = parse(&q, &ParseOptions::default()).map_err(|e| TestCaseError::fail(format!("{q}: {e}")))?;
        for text in texts {
            prop_assert_eq!(e.matches(&analyze(&text)), reference::eval(&r, &text), "query {} on {:?}", q, text);
        }
    }

    #[test]
    fn query_set_agrees_with_single_queries(
        rs in prop::collection::vec(ref_query(), 0..40),
        texts in prop::collection::vec(ref_text(), 1..8),
    ) {
        let queries: Vec<Expr> = rs.iter().map(|r| p(&render(r))).collect();
        let set = QuerySet::new(queries.clone());
        for text in texts {
            let doc = analyze(&text);
            let expected: Vec<usize> = (0..queries.len()).filter(|&i| queries[i].matches(&doc)).collect();
            prop_assert_eq!(set.matching(&doc), expected, "on {:?}", text);
        }
    }
}

// ---------------------------------------------------------------- reference evaluator

/// Words of generated texts: case and diacritic variants, a longer word sharing a prefix,
/// a decomposed accent, `ß`, and a CJK word.
const TEXT_WORDS: &[&str] = &[
    "acme",
    "Acme",
    "ACME",
    "acmeology",
    "Café",
    "cafe",
    "CAFE\u{301}",
    "naïve",
    "naive",
    "Straße",
    "STRASSE",
    "road",
    "runner",
    "corp",
    "日本",
    "x",
    "b",
];
const SEPARATORS: &[&str] = &[
    " ", "  ", ", ", ". ", " #", " @", "#", "@", "-", " (", ") ", "'", "\n", "!!", " #@", "…",
];
/// Single-word query terms.
const QUERY_WORDS: &[&str] = &[
    "acme",
    "ACME",
    "café",
    "cafe",
    "naive",
    "NAÏVE",
    "strasse",
    "straße",
    "road",
    "runner",
    "corp",
    "acmeology",
    "x",
    "b",
];
const STEMS: &[&str] = &[
    "ac", "acme", "caf", "CAFÉ", "stras", "straß", "na", "ro", "日", "x",
];

/// A query in raw (unfolded) form, rendered to text and evaluated by the reference.
#[derive(Debug, Clone)]
enum R {
    Phrase(Vec<&'static str>),
    Tag(char, &'static str),
    Prefix(&'static str),
    Near(Box<R>, Box<R>, u32),
    And(Vec<R>, bool),
    Or(Vec<R>),
    Not(Box<R>, bool),
}

fn ref_near_operand() -> impl Strategy<Value = R> {
    prop_oneof![
        prop::sample::select(QUERY_WORDS).prop_map(|w| R::Phrase(vec![w])),
        (
            prop::sample::select(vec!['#', '@']),
            prop::sample::select(QUERY_WORDS)
        )
            .prop_map(|(s, w)| R::Tag(s, w)),
        prop::sample::select(STEMS).prop_map(R::Prefix),
    ]
}

fn ref_query() -> impl Strategy<Value = R> {
    let words: Vec<&'static str> = QUERY_WORDS.iter().copied().chain(["日本"]).collect();
    let leaf = prop_oneof![
        3 => ref_near_operand(),
        2 => prop::collection::vec(prop::sample::select(words), 1..4).prop_map(R::Phrase),
        2 => (ref_near_operand(), ref_near_operand(), 1..4u32).prop_map(|(a, b, n)| R::Near(Box::new(a), Box::new(b), n)),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 2..4), any::<bool>())
                .prop_map(|(v, implicit)| R::And(v, implicit)),
            prop::collection::vec(inner.clone(), 2..4).prop_map(R::Or),
            (inner, any::<bool>()).prop_map(|(e, minus)| R::Not(Box::new(e), minus)),
        ]
    })
}

fn ref_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "#", "@", " "]),
        prop::collection::vec(
            (
                prop::sample::select(TEXT_WORDS),
                prop::sample::select(SEPARATORS),
            ),
            0..14,
        ),
    )
        .prop_map(|(lead, parts)| {
            let mut s = lead.to_string();
            for (w, sep) in parts {
                s.push_str(w);
                s.push_str(sep);
            }
            s
        })
}

fn render(r: &R) -> String {
    match r {
        R::Phrase(ws) if ws.len() == 1 => ws[0].to_string(),
        R::Phrase(ws) => format!("\"{}\"", ws.join(" ")),
        R::Tag(s, w) => format!("{s}{w}"),
        R::Prefix(stem) => format!("{stem}*"),
        R::Near(a, b, n) => format!("({} NEAR/{n} {})", render(a), render(b)),
        R::And(v, implicit) => {
            format!(
                "({})",
                v.iter().map(render).collect::<Vec<_>>().join(if *implicit {
                    " "
                } else {
                    " AND "
                })
            )
        }
        R::Or(v) => format!(
            "({})",
            v.iter().map(render).collect::<Vec<_>>().join(" OR ")
        ),
        R::Not(e, minus) => format!("{}{}", if *minus { "-" } else { "NOT " }, render(e)),
    }
}

/// An evaluator that shares no code with the matcher: it folds the whole raw text, then
/// searches the folded strings of the query with explicit word-boundary checks, and counts
/// word starts to get positions.
mod reference {
    use super::R;
    use unicode_normalization::UnicodeNormalization;

    fn fold(s: &str) -> Vec<char> {
        let lower: String = s
            .nfd()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .collect::<String>()
            .to_lowercase();
        lower.replace('ß', "ss").chars().collect()
    }

    fn cjk(c: char) -> bool {
        ('\u{4e00}'..='\u{9fff}').contains(&c)
    }

    fn word(c: char) -> bool {
        c.is_alphanumeric() || c == '_'
    }

    /// Whether a word boundary lies between `f[i-1]` and `f[i]`.
    fn boundary(f: &[char], i: usize) -> bool {
        if i == 0 || i == f.len() {
            return true;
        }
        let (a, b) = (f[i - 1], f[i]);
        !word(a) || !word(b) || cjk(a) || cjk(b)
    }

    /// Words of a raw query string: folded, split at non-word characters and around CJK.
    fn words(raw: &str) -> Vec<Vec<char>> {
        let f = fold(raw);
        let mut out: Vec<Vec<char>> = Vec::new();
        for i in 0..f.len() {
            if !word(f[i]) {
                continue;
            }
            if boundary(&f, i) {
                out.push(Vec::new());
            }
            out.last_mut().expect("started").push(f[i]);
        }
        out
    }

    struct Doc {
        f: Vec<char>,
    }

    impl Doc {
        fn at(&self, i: usize, w: &[char]) -> bool {
            self.f.get(i..i + w.len()) == Some(w)
        }

        /// Word index of the word starting at char `i`.
        fn index(&self, i: usize) -> u32 {
            (0..i)
                .filter(|&j| word(self.f[j]) && boundary(&self.f, j))
                .count() as u32
        }

        /// Char offsets where the word sequence occurs as whole words, separated by
        /// non-word characters only.
        fn phrase(&self, ws: &[Vec<char>]) -> Vec<usize> {
            (0..self.f.len())
                .filter(|&start| {
                    let mut i = start;
                    for (k, w) in ws.iter().enumerate() {
                        if k > 0 {
                            while i < self.f.len() && !word(self.f[i]) {
                                i += 1;
                            }
                        }
                        if !(boundary(&self.f, i)
                            && self.at(i, w)
                            && boundary(&self.f, i + w.len()))
                        {
                            return false;
                        }
                        i += w.len();
                    }
                    true
                })
                .collect()
        }

        fn tagged(&self, i: usize, sigil: char) -> bool {
            i >= 1 && self.f[i - 1] == sigil && (i == 1 || !word(self.f[i - 2]))
        }

        fn positions(&self, r: &R) -> Vec<u32> {
            let offsets: Vec<usize> = match r {
                R::Phrase(ws) => self.phrase(&words(&ws.join(" "))),
                R::Tag(s, w) => self
                    .phrase(&words(w))
                    .into_iter()
                    .filter(|&i| self.tagged(i, *s))
                    .collect(),
                R::Prefix(stem) => {
                    let p = fold(stem);
                    (0..self.f.len())
                        .filter(|&i| boundary(&self.f, i) && word(self.f[i]) && self.at(i, &p))
                        .collect()
                }
                _ => unreachable!("not a leaf"),
            };
            offsets.into_iter().map(|i| self.index(i)).collect()
        }

        fn eval(&self, r: &R) -> bool {
            match r {
                R::Near(a, b, n) => {
                    let (pa, pb) = (self.positions(a), self.positions(b));
                    pa.iter()
                        .any(|&i| pb.iter().any(|&j| i != j && i.abs_diff(j) <= *n))
                }
                R::And(v, _) => v.iter().all(|c| self.eval(c)),
                R::Or(v) => v.iter().any(|c| self.eval(c)),
                R::Not(c, _) => !self.eval(c),
                leaf => !self.positions(leaf).is_empty(),
            }
        }
    }

    pub fn eval(r: &R, text: &str) -> bool {
        Doc { f: fold(text) }.eval(r)
    }
}
