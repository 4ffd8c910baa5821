#!/usr/bin/env bash
# Import of N (1,000,000) mixed-language mentions: the texts of ../shared/data's English and
# multilingual train sets (en, fr, de, es, it, pt, ru, ar, hi, cycled), each with a brand
# name, over the last 30 days. Reports mentions/s, peak RSS, and the languages and sentiment
# models the index ended up with.
# Usage: scripts/bench_import_multilingual.sh [N] [WORKDIR]
set -euo pipefail
N=${1:-1000000}
WORK=${2:-$(mktemp -d /tmp/hark-mlbench-XXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data}
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
mkdir -p "$WORK/queries"
printf '[storage]\ndata_dir = "data"\n' > "$WORK/hark.toml"
printf "match = 'acme OR #acme OR @acme OR акме'\n" > "$WORK/queries/acme.toml"
python3 - "$N" "$DATA" "$WORK/mentions.jsonl" <<'PY'
import itertools, json, random, sys, datetime
n, data, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
texts = []
for path in [f"{data}/sentiment/train.tsv"] + [f"{data}/sentiment-multilingual/{l}/train.tsv" for l in "fr de es it pt ru ar hi".split()]:
    rows = [l.split("\t", 1)[1].strip() for l in open(path, encoding="utf-8") if "\t" in l][:8000]
    texts.append(rows)
rnd = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc)
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        rows = texts[i % len(texts)]
        t = rows[rnd.randrange(len(rows))]
        when = now - datetime.timedelta(seconds=rnd.randrange(30 * 86400))
        f.write(json.dumps({"id": f"ml:{i}", "source": "bench", "text": f"acme {t}",
                            "published_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}, ensure_ascii=False) + "\n")
PY
rm -rf "$WORK/data"
start=$(date +%s.%N)
/usr/bin/time -v "$ROOT/target/release/hark" --config "$WORK/hark.toml" import "$WORK/mentions.jsonl" > "$WORK/import.json" 2> "$WORK/import.time"
end=$(date +%s.%N)
secs=$(python3 -c "print($end - $start)")
imported=$(python3 -c "import json; print(json.load(open('$WORK/import.json'))['imported'])")
rss_kb=$(grep "Maximum resident" "$WORK/import.time" | awk '{print $NF}')
python3 -c "print(f'import: $imported mentions in {$secs:.1f}s = {$imported / $secs:.0f} mentions/s, peak RSS {$rss_kb // 1024} MiB')"
"$ROOT/target/release/hark" --config "$WORK/hark.toml" search --limit 20000 --format jsonl \
  | python3 -c "
import json, sys, collections
c = collections.Counter()
for l in sys.stdin:
    m = json.loads(l); c[(m.get('lang'), m['sentiment']['model'])] += 1
print('sample of 20,000 (lang, model):', ', '.join(f'{k[0]}/{k[1]} {v}' for k, v in c.most_common(14)))"
