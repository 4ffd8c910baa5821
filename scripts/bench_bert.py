#!/usr/bin/env python3
"""Classification throughput of `hark classify --model bert` against Python
sentence-transformers (torch 2.4.0) encoding the same texts with the same base model, on the
same number of threads, in the same run. Also hark's peak RSS.

usage: bench_bert.py --hark BIN --texts FILE [--threads 2] [--rounds 3]
Run through scripts/bench_bert.sh, which prepares the virtualenv and builds hark.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--hark", required=True)
ap.add_argument("--texts", required=True)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--precision", default="int8", choices=["int8", "f32"])
ap.add_argument("--base", default="models/base/all-MiniLM-L6-v2")
args = ap.parse_args()

texts = [l.rstrip("\n") for l in open(args.texts, encoding="utf-8")]
data = "\n".join(texts) + "\n"

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

torch.set_num_threads(args.threads)
st = SentenceTransformer(args.base, device="cpu")
st.encode(texts[:64], batch_size=32)  # warm-up

cfg_dir = tempfile.mkdtemp()
cfg = os.path.join(cfg_dir, "hark.toml")
with open(cfg, "w") as f:
    f.write(f'[sentiment]\nmodel = "bert"\nthreads = {args.threads}\n'
            f'precision = "{args.precision}"\n')


def run_hark(payload=data, lines=len(texts)):
    t = time.perf_counter()
    p = subprocess.run([args.hark, "--config", cfg, "classify", "--model", "bert"],
                       input=payload.encode(), capture_output=True, cwd=os.getcwd())
    secs = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(p.stderr.decode())
    assert len(p.stdout.splitlines()) == lines
    return secs


def run_st():
    t = time.perf_counter()
    st.encode(texts, batch_size=32)
    return time.perf_counter() - t


hark_s, st_s, start_s = [], [], []
run_hark()  # warm the page cache
for _ in range(args.rounds):
    st_s.append(run_st())
    hark_s.append(run_hark())
    # Start-up alone (process, model load, one text), to report classification time too.
    start_s.append(run_hark(texts[0] + "\n", 1))
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
h, s = statistics.median(hark_s), statistics.median(st_s)
start = statistics.median(start_s)
result = {
    "texts": len(texts),
    "threads": args.threads,
    "hark_precision": args.precision,
    "hark_classify_s": round(h, 3),
    "hark_texts_per_s": round(len(texts) / h),
    "sentence_transformers_encode_s": round(s, 3),
    "sentence_transformers_texts_per_s": round(len(texts) / s),
    "speedup": round(s / h, 2),
    "hark_startup_s": round(start, 3),
    "hark_classification_only_s": round(h - start, 3),
    "speedup_classification_only": round(s / (h - start), 2),
    "hark_peak_rss_mib": round(peak_kib / 1024),
    "note": "hark: whole process (start, model load, tokenize, classify, write JSON), and "
            "that minus a one-text run; sentence-transformers: encode() only, model loaded",
}
print(json.dumps(result, indent=1))
