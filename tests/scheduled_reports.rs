//! Scheduled reports end to end: `[[reports]]` in hark.toml, a real SMTP server on 127.0.0.1
//! (aiosmtpd, `tests/support/smtp_server.py`), `hark run --once` sends the weekly report once
//! — a second run (a restart) sends nothing — and `hark report --schedule` renders it.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_smtp() -> Smtp {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .args(["--port", "0", "--mode", "plain", "--outdir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 (with aiosmtpd) for the SMTP test server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!("SMTP test server did not start ({line:?}); pip install aiosmtpd")
        });
    Smtp { child, port, dir }
}

fn received(smtp: &Smtp) -> Vec<Value> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(smtp.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let v = serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(_, v)| v).collect()
}

#[test]
fn the_weekly_report_is_mailed_once_across_restarts() {
    let smtp = start_smtp();
    let dir = tempfile::tempdir().unwrap();
    let now = chrono::Utc::now();
    // Two weeks of mentions, one every six hours: the week that just ended has some.
    let mut lines = String::new();
    for i in 0..56 {
        let t = now - chrono::Duration::hours(6 * i);
        let (text, label) = if i % 3 == 0 {
            ("Acme support is awful, outage again", "negative")
        } else {
            ("Acme's new app is great", "positive")
        };
        lines.push_str(&format!(
            "{{\"id\":\"m{i}\",\"text\":\"{text}\",\"published_at\":\"{}\",\"source\":\"news\",\"sentiment\":\"{label}\"}}\n",
            t.to_rfc3339()
        ));
    }
    write(dir.path(), "m.jsonl", &lines);
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "hark.toml",
        &format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"hark <reports@example.com>\"\n\n\
             [[reports]]\nname = \"acme-weekly\"\nquery = \"acme\"\nevery = \"week\"\nat = \"Mon 00:00\"\n\
             timezone = \"Europe/Paris\"\nformat = \"pdf\"\nto = [\"client@example.com\"]\n\
             title = \"Acme weekly\"\nbrand_name = \"Agency & Co\"\n",
            smtp.port
        ),
    );
    let o = hark(dir.path(), &["import", "m.jsonl"], None);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["reports"]["sent"], 1, "{summary}");
    let mails = received(&smtp);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m["rcpt_tos"], serde_json::json!(["client@example.com"]));
    let subject = m["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "Subject")
        .map(|h| h[1].as_str().unwrap().to_string())
        .unwrap();
    assert!(subject.starts_with("Acme weekly — "), "{subject}");
    let parts = m["parts"].as_array().unwrap();
    let text = parts
        .iter()
        .find(|p| p["content_type"] == "text/plain")
        .unwrap();
    assert!(
        text["content"]
            .as_str()
            .unwrap()
            .contains("acme was mentioned"),
        "{text}"
    );
    let pdf = parts
        .iter()
        .find(|p| p["content_type"] == "application/pdf")
        .expect("a PDF attachment");
    assert!(
        pdf["filename"]
            .as_str()
            .unwrap()
            .starts_with("acme-weekly-"),
        "{pdf}"
    );
    let bytes = base64_decode(pdf["content_b64"].as_str().unwrap());
    assert!(bytes.starts_with(b"%PDF-1.7"));

    // A restart: the occurrence was sent, nothing more goes out.
    let o = hark(dir.path(), &["run", "--once", "--format", "json"], None);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(summary["reports"]["sent"], 0, "{summary}");
    assert_eq!(received(&smtp).len(), 1);

    // What would be sent, rendered on demand.
    let o = hark(
        dir.path(),
        &["report", "--schedule", "acme-weekly", "--out", "now.pdf"],
        None,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::read(dir.path().join("now.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );
    let o = hark(
        dir.path(),
        &["report", "--schedule", "acme-weekyl", "--out", "now.pdf"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `acme-weekly`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_report_table_with_a_mistake_names_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "queries/acme.toml", "match = 'acme'\n");
    write(
        dir.path(),
        "hark.toml",
        "[smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@example.com\"\n\n[[reports]]\nname = \"r\"\nquery = \"acme\"\nevery = \"week\"\nat = \"Funday 08:00\"\nto = [\"a@example.com\"]\n",
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("hark.toml:") && err.contains("`Funday` is not a weekday"),
        "{err}"
    );
    write(
        dir.path(),
        "hark.toml",
        "[smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@example.com\"\n\n[[reports]]\nname = \"r\"\nquery = \"acmee\"\nevery = \"day\"\nto = [\"a@example.com\"]\n",
    );
    let o = hark(dir.path(), &["run", "--once"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no query named `acmee`, did you mean `acme`?"),
        "{}",
        stderr(&o)
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
