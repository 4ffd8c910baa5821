#!/usr/bin/env bash
# Web API and report speed on 1,000,000 mentions: builds the index (as bench_import.sh),
# starts `hark serve`, measures /api/search, /api/stats and the dashboard's requests
# (benches/serve_bench.rs), a dashboard render in headless Chromium, and `hark report` for 30 days.
# Usage: scripts/bench_serve.sh [N] [WORKDIR]
set -euo pipefail
N=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/hark-serve-bench-XXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARK="$ROOT/target/release/hark"
if [ ! -d "$WORK/data/index" ]; then
  "$ROOT/scripts/bench_import.sh" "$N" "$WORK" >&2
fi
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HARK" --config "$WORK/hark.toml" serve --listen "127.0.0.1:$PORT" 2> "$WORK/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
cargo bench --manifest-path "$ROOT/Cargo.toml" --bench serve_bench -- "http://127.0.0.1:$PORT" acme
if command -v chromium >/dev/null; then
  for i in 1 2 3; do
    start=$(date +%s.%N)
    chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 --dump-dom \
      "http://127.0.0.1:$PORT/dashboard?query=acme&since=$(date -u -d "90 days ago" +%F)" 2>/dev/null | grep -c 'class="bar' >/dev/null || true
    end=$(date +%s.%N)
    echo "dashboard in headless chromium (browser start + load + all requests + render): $(echo "$end - $start" | bc) s"
  done
fi
for ext in html pdf; do
  start=$(date +%s.%N)
  "$HARK" --config "$WORK/hark.toml" report --query acme --since 90d --compare globex,initech --out "$WORK/report.$ext" >/dev/null
  end=$(date +%s.%N)
  echo "report 90 days ($ext): $(echo "$end - $start" | bc) s (target < 5)"
done
