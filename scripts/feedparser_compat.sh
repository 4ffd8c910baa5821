#!/usr/bin/env bash
# hark's feeds against Python feedparser's own test suite: fetches feedparser's source
# distribution from PyPI (it ships tests/), installs feedparser into a private venv, builds
# hark and runs scripts/feedparser_compat.py (see its docstring for the protocol).
#
# Usage: scripts/feedparser_compat.sh [WORKDIR] [--list]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-$(mktemp -d /tmp/hark-fpcompat-XXXX)}
shift || true
VERSION=${FEEDPARSER_VERSION:-6.0.14}
CACHE="$ROOT/target/feedparser-compat"
mkdir -p "$CACHE" "$WORK"
if [ ! -x "$CACHE/venv/bin/python" ]; then
  python3 -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install -q "feedparser==$VERSION"
fi
if [ ! -d "$CACHE/feedparser-$VERSION/tests" ]; then
  "$CACHE/venv/bin/pip" download -q --no-deps --no-binary :all: -d "$CACHE" "feedparser==$VERSION"
  tar xzf "$CACHE/feedparser-$VERSION.tar.gz" -C "$CACHE"
fi
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
rm -rf "$WORK"/f[0-9]*
"$CACHE/venv/bin/python" "$ROOT/scripts/feedparser_compat.py" "$ROOT/target/release/hark" \
  "$CACHE/feedparser-$VERSION" "$WORK" "$@"
