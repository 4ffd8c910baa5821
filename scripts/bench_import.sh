#!/usr/bin/env bash
# Import and search benchmark: 1,000,000 generated mentions, lexicon sentiment, 5 queries.
# Reports mentions/second and peak memory of `hark import`, then search latency (warm).
# Usage: scripts/bench_import.sh [N] [WORKDIR]
set -euo pipefail
N=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/hark-bench-XXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
mkdir -p "$WORK/queries"
printf '[storage]\ndata_dir = "data"\n' > "$WORK/hark.toml"
for b in acme globex initech umbrella hooli; do
  printf "match = '%s OR #%s OR @%s'\n" "$b" "$b" "$b" > "$WORK/queries/$b.toml"
done
[ -f "$WORK/mentions.jsonl" ] || python3 "$ROOT/scripts/gen_mentions.py" "$N" "$WORK/mentions.jsonl"
rm -rf "$WORK/data"
start=$(date +%s.%N)
/usr/bin/time -v "$ROOT/target/release/hark" --config "$WORK/hark.toml" import "$WORK/mentions.jsonl" > "$WORK/import.json" 2> "$WORK/import.time"
end=$(date +%s.%N)
secs=$(echo "$end - $start" | bc)
imported=$(python3 -c "import json,sys; print(json.load(open('$WORK/import.json'))['imported'])")
rss_kb=$(grep "Maximum resident" "$WORK/import.time" | awk '{print $NF}')
echo "import: $imported mentions in ${secs}s = $(echo "$imported / $secs" | bc) mentions/s, peak RSS $((rss_kb / 1024)) MiB"
cargo bench --manifest-path "$ROOT/Cargo.toml" --bench search_bench -- "$WORK/data" 300
