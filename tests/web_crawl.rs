//! End to end for the `web` crawler: `hark run --once` against a local site served by the
//! test, with robots.txt rules, a sitemap, a forum thread over 3 pages, a calendar trap, a
//! redirect loop, pages in windows-1251 and ISO-8859-1, a 20 MB page, a syndicated copy and
//! a non-HTML link. The server's request log proves what was (and was not) fetched.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn html(body: &str) -> Reply {
    Reply::ok(
        format!(
            "<!doctype html><html lang=en><head><title>T</title></head><body>{body}</body></html>"
        ),
        "text/html; charset=utf-8",
    )
}

const ARTICLE: &str = "Acme Corporation announced on Tuesday that its new rocket skates \
will ship to customers in every region next spring, after a long series of delays that \
frustrated buyers and retailers alike. The company said the redesigned skates passed all \
safety tests and that production capacity has doubled since the summer. Analysts expect \
strong demand during the holiday season, although some critics remain sceptical about the \
price and the battery life of the product.";

fn article_page(title: &str, published: &str, extra: &str) -> Reply {
    html(&format!(
        "<nav><a href=\"/\">Home</a> <a href=\"/news/\">News</a></nav>\
         <article><h1>{title}</h1><time datetime=\"{published}\">{published}</time>\
         <p>{ARTICLE}</p><p>{extra}</p></article>\
         <footer>Copyright Example Media. All rights reserved.</footer>"
    ))
}

fn post(id: u32, author: &str, time: &str, text: &str) -> String {
    format!(
        "<div class=\"post\" id=\"p{id}\"><a class=\"permalink\" href=\"#p{id}\">#</a>\
         <span class=\"author\">{author}</span><time datetime=\"{time}\">{time}</time>\
         <div class=\"content\">{text}</div></div>"
    )
}

fn thread_page(n: u32) -> Reply {
    let next = if n < 3 {
        format!(
            "<a class=\"next\" href=\"/forum/thread-1/page-{}\">Next</a>",
            n + 1
        )
    } else {
        String::new()
    };
    let a = n * 10 + 1;
    let b = n * 10 + 2;
    html(&format!(
        "<h2 class=\"thread-title\">Acme skates broken again</h2>{}{}{next}",
        post(
            a,
            &format!("user{a}"),
            &format!("2026-11-0{n}T10:00:00Z"),
            &format!("Acme skates broke on day {a}, terrible support")
        ),
        post(
            b,
            &format!("user{b}"),
            &format!("2026-11-0{n}T11:00:00Z"),
            &format!("Same here with Acme, post {b}")
        ),
    ))
}

fn site(server: &TestServer) {
    server.route(
        "/robots.txt",
        Route::Script(vec![Reply::ok(
            format!(
                "User-agent: *\nDisallow: /private/\nDisallow: /*?print=1\n\nSitemap: {}\n",
                server.url("/sitemap.xml")
            ),
            "text/plain",
        )]),
    );
    server.route(
        "/sitemap.xml",
        Route::Script(vec![Reply::ok(
            format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
                 <url><loc>{}</loc></url><url><loc>{}</loc></url><url><loc>{}</loc></url></urlset>",
                server.url("/news/syndicated.html"),
                server.url("/private/listed-but-disallowed.html"),
                server.url("/news/only-in-sitemap.html"),
            ),
            "application/xml",
        )]),
    );
    server.route(
        "/",
        Route::Script(vec![html(
            "<a href=\"/news/original.html?utm_source=home\">original</a>\
             <a href=\"/news/original.html#comments\">same page</a>\
             <a href=\"/news/original.html?print=1\">print</a>\
             <a href=\"/forum/thread-1\">thread</a>\
             <a href=\"/private/secret.html\">secret</a>\
             <a href=\"/calendar/2026/01\">calendar</a>\
             <a href=\"/loop-a\">loop</a>\
             <a href=\"/cp1251.html\">ru</a><a href=\"/latin1.html\">fr</a>\
             <a href=\"/big.html\">big</a><a href=\"/logo.png\">logo</a>\
             <a href=\"https://elsewhere.example/acme\">outside</a>",
        )]),
    );
    server.route(
        "/news/original.html",
        Route::Script(vec![article_page(
            "Acme ships rocket skates",
            "2026-11-20T08:00:00Z",
            "",
        )]),
    );
    // A syndicated copy, published later, with its own boilerplate.
    server.route(
        "/news/syndicated.html",
        Route::Script(vec![article_page(
            "Acme ships rocket skates (via wire)",
            "2026-11-21T08:00:00Z",
            "This story first appeared elsewhere.",
        )]),
    );
    server.route(
        "/news/only-in-sitemap.html",
        Route::Script(vec![article_page(
            "Acme opens a store",
            "2026-11-22T08:00:00Z",
            "Acme also opened a flagship store downtown with a large showroom for skates and anvils.",
        )]),
    );
    for n in 1..=3 {
        let path = if n == 1 {
            "/forum/thread-1".to_string()
        } else {
            format!("/forum/thread-1/page-{n}")
        };
        server.route(&path, Route::Script(vec![thread_page(n)]));
    }
    // An endless calendar: every month links to the next.
    for y in 2026..2040 {
        for m in 1..=12 {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            server.route(
                &format!("/calendar/{y}/{m:02}"),
                Route::Script(vec![html(&format!(
                    "<p>No events.</p><a href=\"/calendar/{ny}/{nm:02}\">next month</a>"
                ))]),
            );
        }
    }
    server.route(
        "/loop-a",
        Route::Script(vec![Reply::status(302).header("location", "/loop-b")]),
    );
    server.route(
        "/loop-b",
        Route::Script(vec![Reply::status(302).header("location", "/loop-a")]),
    );
    let (ru, _, _) = encoding_rs::WINDOWS_1251.encode(
        "<html><head><meta charset=\"windows-1251\"><title>Новости</title></head><body><article>\
         <p>Компания Acme выпустила новые ракетные коньки. Покупатели жалуются на задержки поставок \
         и на высокую цену, но отзывы о качестве в целом хорошие.</p></article></body></html>",
    );
    server.route(
        "/cp1251.html",
        Route::Script(vec![Reply::ok(ru.into_owned(), "text/html")]),
    );
    let (fr, _, _) = encoding_rs::WINDOWS_1252.encode(
        "<html><body><article><p>Le café Acme à Genève a ouvert ses portes : les clients \
         apprécient la crème brûlée, mais les prix sont élevés et le service est lent.</p>\
         </article></body></html>",
    );
    server.route(
        "/latin1.html",
        Route::Script(vec![Reply::ok(
            fr.into_owned(),
            "text/html; charset=ISO-8859-1",
        )]),
    );
    let mut big = b"<html><body><p>acme ".to_vec();
    big.resize(20 * 1024 * 1024, b'x');
    server.route(
        "/big.html",
        Route::Script(vec![Reply::ok(big, "text/html")]),
    );
    server.route(
        "/logo.png",
        Route::Script(vec![Reply::ok(vec![0x89, b'P', b'N', b'G'], "image/png")]),
    );
}

fn setup(server: &TestServer) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[http]\nretries = 0\nmax_redirects = 5\n\n\
             [[sources]]\nname = \"site\"\nkind = \"web\"\n\
             seeds = [\"{root}\"]\nmax_depth = 3\nmax_pages = 60\ndelay = \"0\"\nmax_page_size = \"1MB\"\n\
             [sources.selectors]\npost = \"div.post\"\ntext = \".content\"\nauthor = \".author\"\n\
             time = \"time\"\npermalink = \"a.permalink\"\nnext_page = \"a.next\"\ntitle = \"h2.thread-title\"\n",
            root = server.url("/"),
        ),
    );
    write(
        dir.path(),
        "queries/acme.toml",
        "match = 'acme OR Акме OR компания'\n",
    );
    dir
}

fn run_once(dir: &Path) -> Value {
    let o = hark(dir, &["run", "--once"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn stored(dir: &Path) -> BTreeMap<String, Value> {
    let o = hark(
        dir,
        &["search", "--limit", "1000", "--format", "json"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["url"].as_str().unwrap().to_string(), m.clone()))
        .collect()
}

#[test]
fn crawl_of_a_local_site() {
    let server = TestServer::start();
    site(&server);
    let dir = setup(&server);
    let s = run_once(dir.path());
    let log = server.log();
    let paths: Vec<String> = log.iter().map(|l| l.path.clone()).collect();

    // robots.txt was read first and obeyed: nothing under /private/ was requested, nor the
    // print variant.
    assert_eq!(paths[0], "/robots.txt", "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.starts_with("/private/")),
        "{paths:?}"
    );
    assert!(
        !log.iter().any(|l| l.query.contains("print=1")),
        "{paths:?}"
    );
    // One page, one fetch, whatever the tracking parameters and fragments.
    assert_eq!(
        paths.iter().filter(|p| *p == "/news/original.html").count(),
        1
    );
    // Nothing outside the scope.
    assert!(log.iter().all(|l| {
        l.headers
            .get("host")
            .is_some_and(|h| h.starts_with("127.0.0.1"))
    }));
    // The calendar trap is bounded by the depth: the seed's link is depth 1, so 3 months at most.
    let months = paths.iter().filter(|p| p.starts_with("/calendar/")).count();
    assert!((1..=3).contains(&months), "{months} calendar pages");

    let all = stored(dir.path());
    let root = server.url("");
    // The original article; its later syndicated copy is recognised and not stored.
    let a = &all[&format!("{root}/news/original.html")];
    assert_eq!(a["title"], "Acme ships rocket skates");
    assert_eq!(a["published_at"], "2026-11-20T08:00:00Z");
    assert!(
        a["text"]
            .as_str()
            .unwrap()
            .contains("Acme Corporation announced on Tuesday"),
        "{}",
        a["text"]
    );
    assert!(!a["text"].as_str().unwrap().contains("All rights reserved"));
    assert!(
        paths.contains(&"/news/syndicated.html".to_string()),
        "{paths:?}"
    );
    assert!(
        !all.contains_key(&format!("{root}/news/syndicated.html")),
        "{:?}",
        all.keys()
    );
    // A page found only through the sitemap.
    assert!(all.contains_key(&format!("{root}/news/only-in-sitemap.html")));
    // Each forum post is its own mention, over the thread's three pages.
    for n in 1..=3u32 {
        for (k, hour) in [(1, "10"), (2, "11")] {
            let id = n * 10 + k;
            let page = if n == 1 {
                format!("{root}/forum/thread-1")
            } else {
                format!("{root}/forum/thread-1/page-{n}")
            };
            let m = all
                .get(&format!("{page}#p{id}"))
                .unwrap_or_else(|| panic!("post {id} missing: {:?}", all.keys()));
            assert_eq!(m["author"], format!("user{id}"));
            assert_eq!(m["published_at"], format!("2026-11-0{n}T{hour}:00:00Z"));
            assert_eq!(m["title"], "Acme skates broken again");
            assert_eq!(m["source_kind"], "web");
        }
    }
    // Charsets: windows-1251 from <meta>, ISO-8859-1 from the HTTP header.
    assert!(
        all[&format!("{root}/cp1251.html")]["text"]
            .as_str()
            .unwrap()
            .contains("Компания Acme выпустила")
    );
    assert!(
        all[&format!("{root}/latin1.html")]["text"]
            .as_str()
            .unwrap()
            .contains("Le café Acme à Genève")
    );
    assert!(
        !all.keys()
            .any(|k| k.contains("logo.png") || k.contains("big.html"))
    );

    // The redirect loop and the 20 MB page are reported; they did not stop the crawl.
    let errors: Vec<String> = s["sources"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert!(errors.iter().any(|e| e.contains("loop-")), "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("big.html") && e.contains("limit")),
        "{errors:?}"
    );

    // A second cycle: seeds, robots-cached, sitemap again; recently fetched pages are not
    // fetched again, and nothing is stored twice.
    server.clear_log();
    let s2 = run_once(dir.path());
    assert_eq!(s2["indexed"], 0, "{s2}");
    let again: Vec<String> = server.log().iter().map(|l| l.path.clone()).collect();
    assert!(
        !again.contains(&"/news/original.html".to_string()),
        "{again:?}"
    );
    assert!(again.contains(&"/".to_string()));
    assert_eq!(stored(dir.path()).len(), all.len());
}
