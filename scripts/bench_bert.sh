#!/usr/bin/env bash
# Throughput of `hark classify --model bert` vs Python sentence-transformers on the same
# texts and threads, plus hark's peak RSS.
#   usage: scripts/bench_bert.sh [TSV_OR_TEXT_FILE] [THREADS] [int8|f32]
# Default: the texts of ../shared/data/sentiment/dev.tsv, 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/sentiment/dev.tsv}"
THREADS="${2:-2}"
PRECISION="${3:-int8}"
bash models/setup-bert.sh --bench
# shellcheck disable=SC1091
source "${HARK_VENV:-.venv}/bin/activate"
LIBTORCH_USE_PYTORCH=1 cargo build --release --features bert --quiet
TEXTS="$(mktemp)"
trap 'rm -f "$TEXTS"' EXIT
case "$DATA" in
  *.tsv) cut -f2- "$DATA" > "$TEXTS" ;;
  *) cp "$DATA" "$TEXTS" ;;
esac
python scripts/bench_bert.py --hark target/release/hark --texts "$TEXTS" --threads "$THREADS" --precision "$PRECISION"
