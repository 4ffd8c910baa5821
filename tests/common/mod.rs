//! Shared test helpers: a real HTTP server on 127.0.0.1 with scripted routes and a request
//! log, and a runner for the real `hark` binary.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A route: a sequence of replies (the last repeats), or a static file served with an ETag
/// and Last-Modified that honours conditional requests.
#[derive(Clone, Debug)]
pub enum Route {
    Script(Vec<Reply>),
    File { body: Vec<u8>, content_type: String },
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    /// The raw query string ("" when none).
    pub query: String,
    pub method: String,
    pub headers: HashMap<String, String>,
    /// The request body (POST), as text.
    pub body: String,
    pub status: u16,
    pub at: std::time::Instant,
}

#[derive(Default)]
struct ServerState {
    routes: HashMap<String, Route>,
    calls: HashMap<String, usize>,
    log: Vec<Logged>,
}

#[derive(Clone)]
pub struct TestServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<ServerState>>,
}

const LAST_MODIFIED: &str = "Wed, 25 Nov 2026 10:00:00 GMT";

async fn handle(State(st): State<Arc<Mutex<ServerState>>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().to_string();
    let headers: HashMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let (reply, inm_ok) = {
        let mut s = st.lock().unwrap();
        let n = *s
            .calls
            .entry(path.clone())
            .and_modify(|c| *c += 1)
            .or_insert(1);
        // A route keyed `PATH?NEEDLE` answers requests to PATH whose query contains NEEDLE;
        // it wins over a plain `PATH` route.
        let by_query = s
            .routes
            .iter()
            .filter(|(k, _)| {
                k.split_once('?')
                    .is_some_and(|(p, needle)| p == path && query.contains(needle))
            })
            .map(|(_, r)| r.clone())
            .next();
        match by_query.or_else(|| s.routes.get(&path).cloned()) {
            None => (Reply::status(404), false),
            Some(Route::Script(replies)) => {
                (replies[(n - 1).min(replies.len() - 1)].clone(), false)
            }
            Some(Route::File { body, content_type }) => {
                let etag = format!(
                    "\"{:x}\"",
                    body.len() * 31 + body.first().copied().unwrap_or(0) as usize
                );
                let matches = headers.get("if-none-match") == Some(&etag);
                let r = Reply::ok(body, &content_type)
                    .header("etag", &etag)
                    .header("last-modified", LAST_MODIFIED);
                (r, matches)
            }
        }
    };
    let status = if inm_ok { 304 } else { reply.status };
    st.lock().unwrap().log.push(Logged {
        path,
        query,
        method,
        headers,
        body,
        status,
        at: std::time::Instant::now(),
    });
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    if inm_ok {
        return b.body(Body::empty()).unwrap();
    }
    b.body(Body::from(reply.body)).unwrap()
}

impl TestServer {
    /// Starts a server on 127.0.0.1 in a background thread with its own runtime.
    pub fn start() -> TestServer {
        let state = Arc::new(Mutex::new(ServerState::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(st);
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        TestServer { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn route(&self, path: &str, route: Route) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), route);
    }

    pub fn file(&self, path: &str, body: Vec<u8>, content_type: &str) {
        self.route(
            path,
            Route::File {
                body,
                content_type: content_type.into(),
            },
        );
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}

pub fn hark_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hark"))
}

/// Runs `hark ARGS` with `stdin`, returning the output.
pub fn hark(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    hark_env(dir, args, stdin, &[])
}

/// [`hark`] with extra environment variables.
pub fn hark_env(dir: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(hark_bin());
    cmd.envs(env.iter().copied());
    cmd.current_dir(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("hark runs");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut s = child.stdin.take().unwrap();
        let input = input.to_string();
        std::thread::spawn(move || {
            let _ = s.write_all(input.as_bytes());
        });
    }
    child.wait_with_output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(rel)
}

/// Where tests find recorded data (copies in tests/fixtures, else ../shared; a SKIPPED line
/// without it, a failure under `CI=true`): the library's own rules, see `hark::testdata`.
#[allow(unused_imports)]
pub use hark::testdata::{fixture_bytes, fixture_path, shared_or_skip};

/// Every file of the fixture folder `DIR` that is available here, sorted by name: the
/// repository's copies plus, when `../shared` is present, the others (a copy wins over the
/// shared file of the same name; they are byte-identical). Without `../shared` this prints
/// the `SKIPPED` line (or fails under `CI=true`) and lists the copies only, so tests over a
/// whole folder still check what may be redistributed.
pub fn fixture_files(dir: &str) -> Vec<PathBuf> {
    let mut by_name = std::collections::BTreeMap::new();
    let copies = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let shared = shared_or_skip(&format!("fixtures/{dir}"));
    for d in shared.iter().chain([&copies]) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_file()) {
                by_name.insert(e.file_name(), e.path());
            }
        }
    }
    by_name.into_values().collect()
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

pub fn header_map(h: &HashMap<String, String>) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in h {
        if let (Ok(k), Ok(v)) = (header::HeaderName::try_from(k.as_str()), v.parse()) {
            m.insert(k, v);
        }
    }
    m
}

/// A running `hark serve`, killed when dropped.
pub struct Served {
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`, read from the line the server prints on stderr.
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `hark serve --listen LISTEN` in `dir` and waits until it announces its address.
pub fn hark_serve(dir: &Path, env: &[(&str, &str)], listen: &str) -> Served {
    hark_server(dir, env, &["serve", "--listen", listen])
}

/// Starts `hark ARGS` (a command that serves HTTP: `serve`, `run --serve ADDR`) in `dir`
/// and waits until it announces its address.
pub fn hark_server(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Served {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(hark_bin())
        .current_dir(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let base = loop {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "hark serve exited");
        if let Some(i) = line.find("http://") {
            break line[i..].trim().trim_end_matches('/').to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while err.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    Served { child, base }
}
