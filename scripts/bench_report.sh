#!/usr/bin/env bash
# Report rendering speed: `hark report` over an index of N (1,000,000) generated mentions
# (scripts/gen_mentions.py, 5 queries), 30 days, PDF and HTML, with and without --compare;
# three runs each, the median wall time. Target (issue: client-ready reports): a 30-day PDF
# over 1,000,000 mentions in under 3 s.
# Usage: scripts/bench_report.sh [N] [WORKDIR]   (reuses WORKDIR's index when present)
set -euo pipefail
N=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/hark-report-bench-XXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
HARK="$ROOT/target/release/hark"
mkdir -p "$WORK/queries"
printf '[storage]\ndata_dir = "data"\n' > "$WORK/hark.toml"
for b in acme globex initech umbrella hooli; do
  printf "match = '%s OR #%s OR @%s'\n" "$b" "$b" "$b" > "$WORK/queries/$b.toml"
done
if [ ! -d "$WORK/data/index" ]; then
  [ -f "$WORK/mentions.jsonl" ] || python3 "$ROOT/scripts/gen_mentions.py" "$N" "$WORK/mentions.jsonl"
  "$HARK" --config "$WORK/hark.toml" import "$WORK/mentions.jsonl" > /dev/null
fi
total=$("$HARK" --config "$WORK/hark.toml" search --limit 0 --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['total'])")
# The generated history ends at a fixed date: the periods end at its newest mention.
newest=$("$HARK" --config "$WORK/hark.toml" search --sort newest --limit 1 --format jsonl | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['published_at'])")
until=$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00'))+datetime.timedelta(seconds=1); print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))" "$newest")
since30=$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00'))-datetime.timedelta(days=30); print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))" "$until")
since90=$(python3 -c "import datetime,sys; t=datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00'))-datetime.timedelta(days=90); print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))" "$until")
in30=$("$HARK" --config "$WORK/hark.toml" search --query acme --since "$since30" --until "$until" --limit 0 --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['total'])")
echo "index: $total mentions; the report's query has $in30 in the 30 days to $until"
run() {
  local label=$1; shift
  local times=()
  for i in 1 2 3; do
    local s e
    s=$(date +%s.%N)
    "$HARK" --config "$WORK/hark.toml" report "$@" 2>/dev/null >/dev/null
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  printf '%-44s median %6.2f s  (runs: %s)\n' "$label" "$median" "${times[*]}"
}
run "30 days, PDF" --query acme --since "$since30" --until "$until" --out "$WORK/r.pdf"
run "30 days, HTML" --query acme --since "$since30" --until "$until" --out "$WORK/r.html"
run "30 days, PDF, --compare globex,initech" --query acme --since "$since30" --until "$until" --compare globex,initech --out "$WORK/c.pdf"
run "90 days, PDF" --query acme --since "$since90" --until "$until" --out "$WORK/q.pdf"
