#!/usr/bin/env bash
# Spike alerts on real traffic, end to end: every series of ../shared/data/volume (real brand
# tweet volumes with labelled incidents, see its README) is imported into one deployment as
# mentions (each 5-minute row's `value` mentions spread evenly over its five minutes), a
# default `volume_spike` rule per series is backtested with `hark alerts backtest` over the
# whole index, and the alerts are scored against the labelled windows: incidents caught,
# alerts outside incidents (after the first 15 % of each series, where the baseline is being
# learnt), median delay from window start, and the backtest's wall time.
#
# Usage: scripts/bench_volume.sh [WORKDIR] [EXTRA RULE LINES]
#   e.g. scripts/bench_volume.sh /tmp/vol 'sensitivity = "low"'
#        scripts/bench_volume.sh /tmp/vol 'cooldown = "6h"'
# The in-process twin of this script is `cargo bench --bench volume_eval` (same replay code,
# no index), which also prints every alert with `--list`.
set -euo pipefail
WORK=${1:-$(mktemp -d /tmp/hark-volbench-XXXX)}
EXTRA=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${DATA:-$ROOT/../shared/data/volume}
[ -f "$DATA/windows.json" ] || { echo "SKIPPED: $DATA absent" >&2; exit 0; }
cargo build --release --manifest-path "$ROOT/Cargo.toml" >&2
HARK="$ROOT/target/release/hark"
mkdir -p "$WORK/queries" "$WORK/alerts"
printf '[storage]\ndata_dir = "data"\n' > "$WORK/hark.toml"
SERIES=$(python3 -c "import json,sys; print(' '.join(sorted(json.load(open(sys.argv[1])))))" "$DATA/windows.json")
for s in $SERIES; do
  l=$(echo "$s" | tr 'A-Z' 'a-z')
  printf "match = '%s'\n" "$l" > "$WORK/queries/$l.toml"
  printf 'query = "%s"\nkind = "volume_spike"\n%s\n' "$l" "$EXTRA" > "$WORK/alerts/$l-volume.toml"
done
if [ ! -d "$WORK/data/index" ]; then
  python3 - "$DATA" "$WORK/mentions.jsonl" $SERIES <<'PY'
import datetime, json, sys
data, out, series = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    for s in series:
        l = s.lower()
        for row in open(f"{data}/{s}.csv").read().splitlines()[1:]:
            ts, v = row.split(",")
            t0 = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
            n = int(float(v))
            for k in range(n):
                t = t0 + datetime.timedelta(seconds=int((k + 0.5) * 300 / n))
                f.write(json.dumps({"id": f"{l}:{int(t0.timestamp())}:{k}", "source": "twitter",
                                    "text": f"{l} mention", "published_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                    "sentiment": "neutral"}) + "\n")
PY
  start=$(date +%s.%N)
  "$HARK" --config "$WORK/hark.toml" import "$WORK/mentions.jsonl" > "$WORK/import.json" 2> "$WORK/import.log"
  echo "imported $(wc -l < "$WORK/mentions.jsonl") mentions in $(echo "$(date +%s.%N) - $start" | bc) s" >&2
  rm "$WORK/mentions.jsonl"
fi
for s in $SERIES; do
  l=$(echo "$s" | tr 'A-Z' 'a-z')
  start=$(date +%s.%N)
  "$HARK" --config "$WORK/hark.toml" alerts backtest "$l-volume" > "$WORK/$l.jsonl" 2> "$WORK/$l.log"
  echo "$s $(echo "$(date +%s.%N) - $start" | bc)" >> "$WORK/times.txt"
done
python3 - "$DATA" "$WORK" $SERIES <<'PY'
import datetime, json, sys, statistics
data, work, series = sys.argv[1], sys.argv[2], sys.argv[3:]
windows = json.load(open(f"{data}/windows.json"))
times = dict(l.split() for l in open(f"{work}/times.txt"))
p = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
tot_c = tot_n = tot_f = 0; delays = []
for s in series:
    rows = open(f"{data}/{s}.csv").read().splitlines()[1:]
    first = datetime.datetime.strptime(rows[0].split(",")[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    last = datetime.datetime.strptime(rows[-1].split(",")[0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc) + datetime.timedelta(minutes=5)
    learn_until = first + (last - first) * 0.15
    mentions = sum(int(float(r.split(",")[1])) for r in rows)
    w = [(p(a), p(b)) for a, b in windows[s]]
    caught = {}; false = 0
    for line in open(f"{work}/{s.lower()}.jsonl"):
        t = p(json.loads(line)["fired_at"])
        hit = [i for i, (a, b) in enumerate(w) if a <= t <= b]
        if hit:
            caught.setdefault(hit[0], t - w[hit[0]][0])
        elif t >= learn_until:
            false += 1
    d = sorted(int(x.total_seconds() // 60) for x in caught.values())
    delays += d
    print(f"{s:<5} {mentions:>9} mentions  incidents caught {len(caught)}/{len(w)}  alerts outside incidents {false:>3}  "
          f"delays from window start (min) {d}  backtest {float(times[s]):.1f} s")
    tot_c += len(caught); tot_n += len(w); tot_f += false
print(f"TOTAL incidents caught {tot_c}/{tot_n}  alerts outside incidents {tot_f}  "
      f"median delay from window start {statistics.median(delays) if delays else 0:.0f} min")
PY
