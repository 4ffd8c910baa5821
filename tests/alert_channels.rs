//! Alert delivery channels against real servers on 127.0.0.1: an SMTP server (Python
//! aiosmtpd, `tests/support/smtp_server.py`; needs `python3 -m pip install aiosmtpd`) in
//! plain, STARTTLS and implicit-TLS modes, and an axum webhook receiver.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{TimeZone, Utc};
use hark::alerts::drivers::{Contributor, Driver};
use hark::alerts::email::{self, SmtpSettings};
use hark::alerts::model::{Alert, AlertMention};
use hark::alerts::webhook;
use serde_json::Value;

const XSS_SCRIPT: &str = "<script>alert(1)</script>";
const XSS_IMG: &str = "<img src=x onerror=alert(1)>";

fn mention(i: u32, url: Option<&str>, author: Option<&str>, excerpt: &str) -> AlertMention {
    AlertMention {
        id: format!("m{i}"),
        url: url.map(str::to_string),
        author: author.map(str::to_string),
        source: if i == 2 {
            "<b>evil-source</b>".to_string()
        } else {
            "twitter".to_string()
        },
        published_at: Utc.with_ymd_and_hms(2026, 3, 1, 11, 10 + i, 0).unwrap(),
        sentiment: "negative".to_string(),
        score: -0.8,
        reach: 20_000 / u64::from(i),
        excerpt: excerpt.to_string(),
    }
}

fn sample_alert(update: &str) -> Alert {
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    Alert {
        id: format!("alert-{update}-1"),
        incident: "inc-42".to_string(),
        update: update.to_string(),
        rule: "acme-negative".to_string(),
        kind: "negative_spike".to_string(),
        query: "acme".to_string(),
        fired_at: t,
        window_start: t - chrono::Duration::hours(1),
        window_end: t,
        observed: 42.0,
        expected: 6.1,
        p_value: Some(3.2e-9),
        observed_count: 42,
        negative: 42,
        neutral: 5,
        positive: 1,
        mentions: vec![
            mention(
                1,
                Some("https://example.com/post?a=1&b=2"),
                Some("@everyone"),
                &format!(
                    "{XSS_SCRIPT} acme is a scam @channel <!here> *bold* _it_ ~s~ `code` & more"
                ),
            ),
            mention(
                2,
                Some("javascript:alert(1)"),
                Some("<b>mallory</b>"),
                &format!("{XSS_IMG} [click](https://evil.example) <@U123> <!channel> @here"),
            ),
            mention(
                3,
                None,
                None,
                "line one\nline two with \"quotes\" and 'single' quotes",
            ),
            mention(
                4,
                Some("http://example.org/a_(b)"),
                Some("ümlaut"),
                "Ünïcödé — fine",
            ),
            mention(
                5,
                Some("https://example.net/5"),
                Some("plain"),
                "acme support never answers",
            ),
        ],
        top_sources: vec![
            ("twitter".to_string(), 30),
            ("<script>x</script>".to_string(), 12),
        ],
        top_authors: vec![("@everyone".to_string(), 3)],
        // Drivers come from mention text: as hostile as the mentions themselves.
        drivers: vec![
            Driver {
                term: "<script>x</script> outage".to_string(),
                share: 0.42,
                baseline_share: 0.01,
            },
            Driver {
                term: "@everyone *down*".to_string(),
                share: 0.3,
                baseline_share: 0.0,
            },
        ],
        driving_source: Some(Contributor {
            name: "<b>forum</b>".to_string(),
            count: 17,
            share: 0.4,
        }),
        driving_author: Some(Contributor {
            name: "@here".to_string(),
            count: 4,
            share: 0.1,
        }),
        search_url: Some("https://hark.example/search?q=acme&range=1h".to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// SMTP

struct Certs {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

/// A self-signed certificate for a name that is not 127.0.0.1, so that
/// `accept_invalid_certs` must accept both the issuer and the name.
fn self_signed() -> Certs {
    let ck = rcgen::generate_simple_self_signed(vec!["mail.hark.test".into()])
        .expect("generate certificate");
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    Certs {
        _dir: dir,
        cert,
        key,
    }
}

struct SmtpServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    _certs: Option<Certs>,
}

/// `auth`: (user, password, mechanisms such as "PLAIN" or "LOGIN" or "PLAIN,LOGIN").
fn start_smtp(mode: &str, auth: Option<(&str, &str, &str)>) -> SmtpServer {
    let certs = (mode != "plain").then(self_signed);
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .args(["--port", "0", "--mode", mode, "--outdir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(c) = &certs {
        cmd.arg("--cert").arg(&c.cert).arg("--key").arg(&c.key);
    }
    if let Some((user, password, mechanisms)) = auth {
        cmd.args([
            "--user",
            user,
            "--password",
            password,
            "--auth-mechanisms",
            mechanisms,
        ]);
    }
    let mut child = cmd
        .spawn()
        .expect("run python3 (needed for the SMTP tests)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!(
                "SMTP test server did not start (got {line:?}); it needs aiosmtpd: \
                 python3 -m pip install aiosmtpd"
            )
        });
    SmtpServer {
        child,
        port,
        dir,
        _certs: certs,
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Received {
    meta: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<String> {
        self.meta["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_string())
    }

    fn part(&self, content_type: &str) -> String {
        self.meta["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["content_type"] == content_type)
            .unwrap_or_else(|| panic!("no {content_type} part in {}", self.meta))["content"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl SmtpServer {
    fn settings(&self, tls: &str, user: Option<&str>, password: Option<&str>) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".to_string(),
            port: self.port,
            tls: tls.to_string(),
            username: user.map(str::to_string),
            password: password.map(Into::into),
            from: "hark alerts <alerts@hark.test>".to_string(),
            accept_invalid_certs: true,
        }
    }

    /// The `n`-th message received (1-based), waiting up to 10 s for it.
    fn message(&self, n: usize) -> Received {
        let path = self.dir.path().join(format!("{n}.json"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(Instant::now() < deadline, "message {n} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        let meta: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        Received { meta }
    }

    fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "json")
            })
            .count()
    }
}

fn recipients() -> Vec<String> {
    vec![
        "ops@example.com".to_string(),
        "PR Team <pr@example.com>".to_string(),
    ]
}

/// The checks every received alert email must pass.
fn assert_alert_email(msg: &Received, alert: &Alert) {
    assert_eq!(msg.meta["content_type"], "multipart/alternative");
    assert_eq!(
        msg.header("From").unwrap(),
        "hark alerts <alerts@hark.test>"
    );
    assert_eq!(
        msg.header("To").unwrap(),
        "ops@example.com, PR Team <pr@example.com>"
    );
    assert_eq!(msg.meta["mail_from"], "alerts@hark.test");
    assert_eq!(
        msg.meta["rcpt_tos"],
        serde_json::json!(["ops@example.com", "pr@example.com"])
    );
    assert_eq!(msg.header("Auto-Submitted").unwrap(), "auto-generated");
    assert_eq!(msg.header("X-Hark-Incident").unwrap(), alert.incident);
    assert_eq!(msg.header("X-Hark-Event").unwrap(), alert.update);

    let text = msg.part("text/plain");
    let html = msg.part("text/html");
    // Text part: the content as is (plain text cannot run anything), minus unsafe links.
    assert!(text.contains(&alert.title()), "{text}");
    assert!(text.contains(XSS_SCRIPT));
    assert!(text.contains("https://example.com/post?a=1&b=2"));
    assert!(!text.contains("javascript:"));
    // HTML part: everything escaped, only http(s) links.
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "raw <script in HTML part");
    assert!(!lower.contains("<img"), "raw <img in HTML part");
    assert!(
        !lower.contains("<b>"),
        "raw <b> (from author/source) in HTML part"
    );
    assert!(
        !lower.contains("javascript:"),
        "javascript: link in HTML part"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src&#61;x onerror&#61;alert(1)&gt;"));
    assert!(html.contains("&lt;b&gt;mallory&lt;/b&gt;"));
    assert!(html.contains("href=\"https://example.com/post?a&#61;1&amp;b&#61;2\""));
    assert!(html.contains("href=\"https://hark.example/search?q&#61;acme&amp;range&#61;1h\""));
    assert!(html.contains("&quot;quotes&quot;"));
    assert!(html.contains("Ünïcödé — fine"));
    // What the spike is about, and who drives it: shown, escaped.
    let about = text
        .lines()
        .find(|l| l.starts_with("About:"))
        .expect("About line");
    assert!(
        about.ends_with("<script>x</script> outage (42 % of mentions), @everyone *down* (30 %)"),
        "{about}"
    );
    assert!(
        text.contains("source <b>forum</b> (40 %), author @here (10 %)"),
        "{text}"
    );
    assert!(
        html.contains("&lt;script&gt;x&lt;/script&gt; outage (42 % of mentions)"),
        "{html}"
    );
    assert!(
        html.contains("source &lt;b&gt;forum&lt;/b&gt; (40 %)"),
        "{html}"
    );
}

#[tokio::test]
async fn smtp_plain_without_auth_threads_an_incident() {
    let server = start_smtp("plain", None);
    let smtp = server.settings("none", None, None);

    // First notification: its Message-ID is the incident's root id.
    let first = sample_alert("new");
    email::deliver(&smtp, &recipients(), &first, "alert-new-1:email")
        .await
        .unwrap();
    let msg = server.message(1);
    assert_alert_email(&msg, &first);
    assert_eq!(
        msg.header("Subject").unwrap(),
        "[hark] Negative spike: acme"
    );
    assert_eq!(msg.header("Message-ID").unwrap(), "<incident-inc-42@hark>");
    assert_eq!(msg.header("In-Reply-To"), None);
    assert_eq!(msg.header("References"), None);
    assert_eq!(
        msg.header("X-Hark-Idempotency-Key").unwrap(),
        "alert-new-1:email"
    );
    assert_eq!(msg.meta["tls"], false);
    assert_eq!(msg.meta["auth_user"], Value::Null);

    // A follow-up and the end: own Message-ID from the idempotency key, pointing at the
    // root, same subject (Gmail threads only on equal subjects).
    for (n, update) in [(2, "follow_up"), (3, "ended")] {
        let alert = sample_alert(update);
        let key = format!("alert-{update}-1:email");
        email::deliver(&smtp, &recipients(), &alert, &key)
            .await
            .unwrap();
        let msg = server.message(n);
        assert_alert_email(&msg, &alert);
        assert_eq!(
            msg.header("Subject").unwrap(),
            "[hark] Negative spike: acme"
        );
        assert_eq!(
            msg.header("Message-ID").unwrap(),
            format!("<alert-{update}-1=3Aemail@hark>")
        );
        assert_eq!(msg.header("In-Reply-To").unwrap(), "<incident-inc-42@hark>");
        assert_eq!(msg.header("References").unwrap(), "<incident-inc-42@hark>");
        assert_eq!(msg.header("X-Hark-Idempotency-Key").unwrap(), key);
        assert!(
            msg.part("text/plain")
                .starts_with(&format!("{}: ", alert.update_label()))
        );
    }
}

#[tokio::test]
async fn smtp_starttls_self_signed_with_auth_plain() {
    let server = start_smtp("starttls", Some(("hark", "s3cret", "PLAIN")));
    let smtp = server.settings("starttls", Some("hark"), Some("s3cret"));
    let alert = sample_alert("new");
    email::deliver(&smtp, &recipients(), &alert, "k-plain")
        .await
        .unwrap();
    let msg = server.message(1);
    assert_alert_email(&msg, &alert);
    assert_eq!(msg.meta["tls"], true);
    assert_eq!(msg.meta["auth_user"], "hark");
    assert_eq!(msg.meta["auth_mechanism"], "PLAIN");
}

#[tokio::test]
async fn smtp_starttls_self_signed_with_auth_login() {
    let server = start_smtp("starttls", Some(("hark", "s3cret", "LOGIN")));
    let smtp = server.settings("starttls", Some("hark"), Some("s3cret"));
    let alert = sample_alert("follow_up");
    email::deliver(&smtp, &recipients(), &alert, "k-login")
        .await
        .unwrap();
    let msg = server.message(1);
    assert_alert_email(&msg, &alert);
    assert_eq!(msg.meta["tls"], true);
    assert_eq!(msg.meta["auth_mechanism"], "LOGIN");
}

#[tokio::test]
async fn smtp_implicit_tls_with_auth_and_a_test_alert() {
    let server = start_smtp("tls", Some(("hark", "s3cret", "PLAIN,LOGIN")));
    let smtp = server.settings("tls", Some("hark"), Some("s3cret"));
    let alert = sample_alert("test");
    email::deliver(&smtp, &recipients(), &alert, "test-1")
        .await
        .unwrap();
    let msg = server.message(1);
    assert_alert_email(&msg, &alert);
    assert_eq!(msg.meta["tls"], true);
    assert_eq!(msg.meta["auth_user"], "hark");
    // Test alerts stand alone and say so.
    assert_eq!(
        msg.header("Subject").unwrap(),
        "[hark] [test] Negative spike: acme — 42 negative mentions in 1h (expected 6.1) — about <script>x</script> outage, @everyone *down*"
    );
    assert_eq!(msg.header("Message-ID").unwrap(), "<test-1@hark>");
    assert_eq!(msg.header("In-Reply-To"), None);
    assert_eq!(msg.header("References"), None);
}

#[tokio::test]
async fn smtp_wrong_password_is_permanent() {
    let server = start_smtp("starttls", Some(("hark", "s3cret", "PLAIN,LOGIN")));
    let smtp = server.settings("starttls", Some("hark"), Some("wrong"));
    let err = email::deliver(&smtp, &recipients(), &sample_alert("new"), "k")
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("535"), "{err:?}");
    assert!(
        !err.message.contains("wrong"),
        "password leaked into {err:?}"
    );
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn smtp_self_signed_certificate_is_refused_unless_accepted() {
    let server = start_smtp("starttls", None);
    let mut smtp = server.settings("starttls", None, None);
    smtp.accept_invalid_certs = false;
    let err = email::deliver(&smtp, &recipients(), &sample_alert("new"), "k")
        .await
        .unwrap_err();
    assert!(
        err.retryable,
        "TLS failures are treated like connection failures: {err:?}"
    );
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn smtp_rejected_recipient_is_permanent_and_tempfail_retryable() {
    let server = start_smtp("plain", None);
    let smtp = server.settings("none", None, None);
    let alert = sample_alert("new");
    let err = email::deliver(&smtp, &["reject@example.com".to_string()], &alert, "k1")
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err:?}");
    assert!(err.message.contains("550"), "{err:?}");
    let err = email::deliver(&smtp, &["tempfail@example.com".to_string()], &alert, "k2")
        .await
        .unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert!(err.message.contains("451"), "{err:?}");
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn smtp_server_down_is_retryable() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for tls in ["none", "starttls", "tls"] {
        let smtp = SmtpSettings {
            host: "127.0.0.1".to_string(),
            port,
            tls: tls.to_string(),
            username: None,
            password: None,
            from: "alerts@hark.test".to_string(),
            accept_invalid_certs: true,
        };
        let err = email::deliver(&smtp, &recipients(), &sample_alert("new"), "k")
            .await
            .unwrap_err();
        assert!(err.retryable, "{tls}: {err:?}");
    }
}

#[tokio::test]
async fn smtp_bad_settings_are_permanent() {
    let mut smtp = SmtpSettings {
        host: "127.0.0.1".to_string(),
        port: 1,
        tls: "ssl3".to_string(),
        username: None,
        password: None,
        from: "alerts@hark.test".to_string(),
        accept_invalid_certs: false,
    };
    let alert = sample_alert("new");
    assert!(
        !email::deliver(&smtp, &recipients(), &alert, "k")
            .await
            .unwrap_err()
            .retryable
    );
    smtp.tls = "none".to_string();
    smtp.from = "not an address".to_string();
    assert!(
        !email::deliver(&smtp, &recipients(), &alert, "k")
            .await
            .unwrap_err()
            .retryable
    );
    smtp.from = "alerts@hark.test".to_string();
    assert!(
        !email::deliver(&smtp, &[], &alert, "k")
            .await
            .unwrap_err()
            .retryable
    );
    assert!(
        !email::deliver(&smtp, &["nope".to_string()], &alert, "k")
            .await
            .unwrap_err()
            .retryable
    );
}

#[test]
fn email_render_escapes_and_marks_tests() {
    let (subject, text, html) = email::render(&sample_alert("test"));
    assert!(subject.starts_with("[hark] [test] "));
    assert!(text.contains(XSS_IMG));
    assert!(!html.to_lowercase().contains("<img"));
    let (subject, _, _) = email::render(&sample_alert("new"));
    assert_eq!(subject, "[hark] Negative spike: acme");
}

// ---------------------------------------------------------------------------------------
// Webhooks

#[derive(Debug, Clone)]
struct Request {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<Request>>>,
}

/// `POST /hook/{what}`: `ok` → 200, `nocontent` → 204, a number → that status (429
/// with `Retry-After: 3`), `slow` → 200 after 3 s. Records every request.
async fn hook(
    State(receiver): State<Receiver>,
    UrlPath(what): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receiver.requests.lock().unwrap().push(Request {
        path: what.clone(),
        headers,
        body,
    });
    match what.as_str() {
        "ok" => (StatusCode::OK, "ok").into_response(),
        "nocontent" => StatusCode::NO_CONTENT.into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        code => {
            let status = StatusCode::from_u16(code.parse().unwrap()).unwrap();
            let mut response = (status, format!("{{\"error\":\"status {code}\"}}")).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                response
                    .headers_mut()
                    .insert("retry-after", "3".parse().unwrap());
            }
            response
        }
    }
}

async fn start_receiver() -> (String, Receiver) {
    let receiver = Receiver::default();
    let app = Router::new()
        .route("/hook/{what}", post(hook))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, receiver)
}

fn client() -> reqwest::Client {
    // No proxy: the receiver is on 127.0.0.1 whatever the environment says.
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

/// Delivers `format` to `/hook/ok` and returns the recorded request.
async fn deliver_ok(format: &str, secret: Option<&[u8]>, alert: &Alert, key: &str) -> Request {
    let (base, receiver) = start_receiver().await;
    webhook::deliver(
        &client(),
        &format!("{base}/hook/ok"),
        format,
        secret,
        alert,
        key,
    )
    .await
    .unwrap();
    let requests = receiver.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1);
    let r = requests.into_iter().next().unwrap();
    assert_eq!(r.path, "ok");
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(header(&r, "idempotency-key"), Some(key));
    assert_eq!(header(&r, "x-hark-event"), Some(alert.update.as_str()));
    r
}

fn text_of(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

#[tokio::test]
async fn webhook_json_is_signed_and_carries_the_alert() {
    let secret = b"whsec-test-123";
    let alert = sample_alert("new");
    let r = deliver_ok("json", Some(secret), &alert, "alert-new-1:json").await;

    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["schema"], "hark.alert.v1");
    assert_eq!(body["title"], alert.title());
    assert_eq!(body["top_sources"][0], serde_json::json!(["twitter", 30]));
    // The documented schema is the Alert itself: it reads back unchanged.
    let back: Alert = serde_json::from_value(body).unwrap();
    assert_eq!(back, alert);

    let ts = header(&r, "x-hark-timestamp").expect("timestamp header");
    let sig = header(&r, "x-hark-signature").expect("signature header");
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    let now = Utc::now().timestamp();
    assert!((now - ts.parse::<i64>().unwrap()).abs() < 60);
    assert!(webhook::verify_signature(secret, ts, &r.body, sig));
    assert!(webhook::verify_request(
        secret,
        ts,
        &r.body,
        sig,
        Duration::from_secs(300)
    ));
    assert!(!webhook::verify_signature(
        b"other secret",
        ts,
        &r.body,
        sig
    ));
    assert!(!webhook::verify_signature(secret, "1", &r.body, sig));
    let mut tampered = r.body.to_vec();
    tampered[10] ^= 1;
    assert!(!webhook::verify_signature(secret, ts, &tampered, sig));
    assert!(!webhook::verify_signature(
        secret,
        ts,
        &r.body,
        &sig.replace("sha256=", "")
    ));
    assert!(!webhook::verify_signature(secret, ts, &r.body, "sha256=zz"));
    // An old timestamp fails the freshness check even with a valid signature.
    let old = (now - 3600).to_string();
    let old_sig = webhook::sign(secret, &old, &r.body);
    assert!(webhook::verify_signature(secret, &old, &r.body, &old_sig));
    assert!(!webhook::verify_request(
        secret,
        &old,
        &r.body,
        &old_sig,
        Duration::from_secs(300)
    ));

    // The Python snippet in the module docs verifies the same request.
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/alerts/webhook.rs"),
    )
    .unwrap();
    let snippet: String = source
        .lines()
        .skip_while(|l| l.trim() != "//! ```python")
        .skip(1)
        .take_while(|l| l.trim() != "//! ```")
        .map(|l| format!("{}\n", l.strip_prefix("//! ").unwrap_or("")))
        .collect();
    assert_eq!(
        snippet.lines().count(),
        5,
        "the README snippet is five lines:\n{snippet}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body"), &r.body).unwrap();
    let program = format!(
        "{snippet}import sys\nbody = open(sys.argv[1], 'rb').read()\n\
         print(verify(b'whsec-test-123', sys.argv[2], body, sys.argv[3]), \
         verify(b'nope', sys.argv[2], body, sys.argv[3]))\n"
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(program)
        .arg(dir.path().join("body"))
        .arg(ts)
        .arg(sig)
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True False",
        "{out:?}"
    );
}

#[tokio::test]
async fn webhook_without_secret_is_unsigned() {
    let r = deliver_ok("json", None, &sample_alert("ended"), "k-unsigned").await;
    assert_eq!(header(&r, "x-hark-signature"), None);
    assert_eq!(header(&r, "x-hark-timestamp"), None);
    assert_eq!(header(&r, "x-hark-event"), Some("ended"));
}

#[tokio::test]
async fn webhook_slack_block_kit_is_escaped() {
    let alert = sample_alert("new");
    let r = deliver_ok("slack", Some(b"s"), &alert, "k-slack").await;
    let raw = String::from_utf8(r.body.to_vec()).unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body, webhook::payload("slack", &alert));

    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("Negative spike: acme")
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= 150);
    assert_eq!(blocks[1]["type"], "section");
    let fields = blocks[1]["fields"].as_array().unwrap();
    assert!((2..=10).contains(&fields.len()));
    assert!(fields.iter().all(|f| f["type"] == "mrkdwn"));
    let mention_sections: Vec<&Value> = blocks
        .iter()
        .filter(|b| b["type"] == "section" && b.get("text").is_some())
        .collect();
    assert_eq!(mention_sections.len(), 5);
    assert_eq!(blocks.last().unwrap()["type"], "context");
    // Links: the https mention and the search; never the javascript: one.
    let first = mention_sections[0]["text"]["text"].as_str().unwrap();
    assert!(
        first.starts_with("<https://example.com/post?a=1&amp;b=2|*twitter*>"),
        "{first}"
    );
    assert!(raw.contains("<https://hark.example/search?q=acme&amp;range=1h|Open in hark>"));
    assert!(!raw.contains("javascript:"));

    // Mention text: no raw HTML, no control sequences, no mass mentions, no formatting.
    assert!(!raw.contains("<script"));
    assert!(!raw.contains("<img"));
    assert!(raw.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(raw.contains("&lt;img src=x onerror=alert(1)&gt;"));
    for forbidden in [
        "<!here",
        "<!channel",
        "<!everyone",
        "<@U123",
        "@channel",
        "@here",
        "@everyone",
    ] {
        assert!(!raw.contains(forbidden), "{forbidden} survived in {raw}");
    }
    assert!(first.contains("&lt;!here&gt;"));
    for formatting in ["*bold*", "_it_", "~s~", "`code`"] {
        assert!(
            !first.contains(formatting),
            "{formatting} survived in {first}"
        );
    }
    assert!(first.contains("&amp; more"));
    let about = fields
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .find(|t| t.starts_with("*About*"))
        .expect("About field");
    assert!(
        about.contains("&lt;script&gt;x&lt;/script&gt; outage (42 % of mentions)"),
        "{about}"
    );
}

#[tokio::test]
async fn webhook_teams_adaptive_card() {
    let alert = sample_alert("follow_up");
    let r = deliver_ok("teams", None, &alert, "k-teams").await;
    let raw = String::from_utf8(r.body.to_vec()).unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    let card_body = card["body"].as_array().unwrap();
    assert!(card_body.len() > 5);
    // All text is in TextRuns, which Teams never parses as markdown.
    assert!(card_body.iter().all(|b| b["type"] == "RichTextBlock"));
    assert!(text_of(card).contains("Ongoing: Negative spike: acme"));
    assert_eq!(
        card["actions"][0]["url"],
        "https://hark.example/search?q=acme&range=1h"
    );
    assert!(raw.contains("\"url\":\"https://example.com/post?a=1&b=2\""));
    assert!(!raw.contains("javascript:"));
    assert!(!raw.contains("<script") && !raw.contains("<img") && !raw.contains("<b>"));
    assert!(raw.contains("‹script›alert(1)‹/script›"));
    assert!(text_of(card).contains("‹script›x‹/script› outage (42 % of mentions)"));
    assert!(text_of(card).contains("source ‹b›forum‹/b› (40 %)"));
}

#[tokio::test]
async fn webhook_discord_embed_never_pings() {
    let alert = sample_alert("new");
    let r = deliver_ok("discord", None, &alert, "k-discord").await;
    let raw = String::from_utf8(r.body.to_vec()).unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["allowed_mentions"], serde_json::json!({"parse": []}));
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .contains("Negative spike: acme")
    );
    let embed = &body["embeds"][0];
    assert!(embed["title"].as_str().unwrap().chars().count() <= 256);
    assert_eq!(embed["url"], "https://hark.example/search?q=acme&range=1h");
    assert_eq!(embed["timestamp"], "2026-03-01T12:00:00+00:00");
    assert!(embed["fields"].as_array().unwrap().len() <= 25);
    let description = embed["description"].as_str().unwrap();
    assert!(description.chars().count() <= 4096);
    assert!(
        description.starts_with("[**twitter**](https://example.com/post?a=1&b=2)"),
        "{description}"
    );
    // The parentheses of a URL cannot close the markdown link early.
    assert!(description.contains("(http://example.org/a_%28b%29)"));
    assert!(!raw.contains("javascript:"));
    // Markdown from mentions is escaped: no injected link, no formatting, no mention.
    assert!(!description.contains("[click](https://evil.example)"));
    assert!(description.contains("\\[click\\](https://evil.example)"));
    assert!(description.contains("\\*bold\\*"));
    assert!(description.contains("\\<script\\>"));
    for forbidden in ["@everyone", "@here", "@channel"] {
        assert!(!raw.contains(forbidden), "{forbidden} survived in {raw}");
    }
    let about = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "About")
        .expect("About field");
    assert!(
        about["value"].as_str().unwrap().contains("\\<script\\>x"),
        "{about}"
    );
}

#[tokio::test]
async fn webhook_2xx_is_delivered() {
    let (base, _receiver) = start_receiver().await;
    let alert = sample_alert("new");
    webhook::deliver(
        &client(),
        &format!("{base}/hook/nocontent"),
        "discord",
        None,
        &alert,
        "k",
    )
    .await
    .unwrap();
    webhook::deliver(
        &client(),
        &format!("{base}/hook/202"),
        "json",
        None,
        &alert,
        "k",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn webhook_error_statuses_are_classified() {
    let (base, receiver) = start_receiver().await;
    let alert = sample_alert("new");
    let attempt = |status: &str| {
        let url = format!("{base}/hook/{status}");
        let alert = alert.clone();
        async move {
            webhook::deliver(&client(), &url, "slack", None, &alert, "k")
                .await
                .unwrap_err()
        }
    };

    let err = attempt("500").await;
    assert!(err.retryable, "{err:?}");
    assert_eq!(err.retry_after, None);
    assert!(err.message.contains("500"), "{err:?}");

    let err = attempt("503").await;
    assert!(err.retryable, "{err:?}");

    let err = attempt("429").await;
    assert!(err.retryable, "{err:?}");
    assert_eq!(err.retry_after, Some(Duration::from_secs(3)));

    let err = attempt("408").await;
    assert!(err.retryable, "{err:?}");

    for permanent in ["400", "401", "403", "404", "410", "413"] {
        let err = attempt(permanent).await;
        assert!(!err.retryable, "{permanent}: {err:?}");
        assert!(err.message.contains(permanent), "{err:?}");
    }
    // One attempt each: deliver never retries by itself.
    assert_eq!(receiver.requests.lock().unwrap().len(), 4 + 6);
}

#[tokio::test]
async fn webhook_timeout_is_retryable() {
    let (base, _receiver) = start_receiver().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = webhook::deliver(
        &client,
        &format!("{base}/hook/slow"),
        "json",
        None,
        &sample_alert("new"),
        "k",
    )
    .await
    .unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert!(err.message.contains("timed out"), "{err:?}");
}

#[tokio::test]
async fn webhook_network_error_is_retryable_and_hides_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/services/T000/B000/SECRET-TOKEN");
    let err = webhook::deliver(&client(), &url, "slack", None, &sample_alert("new"), "k")
        .await
        .unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert!(
        !err.message.contains("SECRET-TOKEN"),
        "URL leaked into {err:?}"
    );
}

#[tokio::test]
async fn webhook_bad_url_or_key_is_permanent() {
    let alert = sample_alert("new");
    for url in ["not a url", "ftp://127.0.0.1/x"] {
        let err = webhook::deliver(&client(), url, "json", None, &alert, "k")
            .await
            .unwrap_err();
        assert!(!err.retryable, "{url}: {err:?}");
    }
    let err = webhook::deliver(
        &client(),
        "http://127.0.0.1:9/x",
        "json",
        None,
        &alert,
        "bad\nkey",
    )
    .await
    .unwrap_err();
    assert!(!err.retryable, "{err:?}");
}

#[test]
fn payload_formats_are_valid_json_objects() {
    let alert = sample_alert("new");
    for format in webhook::FORMATS {
        let value = webhook::payload(format, &alert);
        assert!(value.is_object(), "{format}");
        let text = text_of(&value);
        assert!(serde_json::from_str::<Value>(&text).is_ok());
    }
    // Unknown formats fall back to json.
    assert_eq!(webhook::payload("nope", &alert)["schema"], "hark.alert.v1");
    assert!(webhook::is_known_format("teams") && !webhook::is_known_format("nope"));
}

#[test]
fn retry_after_forms() {
    assert_eq!(
        webhook::parse_retry_after("3"),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        webhook::parse_retry_after(" 1.5 "),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        webhook::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
        Some(Duration::ZERO)
    );
    let later = (Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
    let d = webhook::parse_retry_after(&later).unwrap();
    assert!(
        d > Duration::from_secs(100) && d <= Duration::from_secs(120),
        "{d:?}"
    );
    assert_eq!(webhook::parse_retry_after("soon"), None);
}
