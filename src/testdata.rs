//! Where unit tests find recorded data, so that `cargo test` passes on a fresh clone.
//!
//! Permissively licensed fixtures are copied into `tests/fixtures/` (see its SOURCES.md); the
//! rest of the recorded fixtures and the labelled data sets live in `../shared`, beside the
//! repository, and may not be redistributed. A test asks here for its file and returns early
//! on `None`. The integration tests (`tests/common/mod.rs`) use the same functions, which is
//! why this module is compiled into the library (hidden from its documentation).
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/REL` when it exists. When it does not, prints `SKIPPED: ../shared absent` and
/// returns None, so a fresh clone passes — except under `CI=true`, where the shared data
/// must be there and a missing file must fail the run rather than skip silently.
pub fn shared_or_skip(rel: &str) -> Option<PathBuf> {
    let p = root().join("../shared").join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing (CI=true: the shared data must be present)",
            p.display()
        );
    }
    eprintln!("SKIPPED: ../shared absent ({})", p.display());
    None
}

/// A recorded fixture (`REL` like `"feeds/foo.rss"`): the repository's own copy in
/// `tests/fixtures/REL` when there is one (permissively licensed files travel with the
/// repository), else `../shared/fixtures/REL` as [`shared_or_skip`] finds it.
pub fn fixture_path(rel: &str) -> Option<PathBuf> {
    let copy = root().join("tests/fixtures").join(rel);
    if copy.exists() {
        return Some(copy);
    }
    shared_or_skip(&format!("fixtures/{rel}"))
}

/// The bytes of [`fixture_path`]`(REL)`; a file that is there but unreadable fails the test.
pub fn fixture_bytes(rel: &str) -> Option<Vec<u8>> {
    let p = fixture_path(rel)?;
    Some(std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}
