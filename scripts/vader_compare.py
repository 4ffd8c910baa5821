#!/usr/bin/env python3
"""Compare hark's Rust VADER port with the reference vaderSentiment 3.3.2.

    python3 scripts/vader_compare.py FILE [--tsv] [--hark "target/release/hark classify --format jsonl"]
                                     [--repeat N] [--bench] [--worst K]
    python3 scripts/vader_compare.py FILE [--tsv] --reference-only

FILE has one text per line (with --tsv: `label<TAB>text`, the text is after the first TAB).
Lines are split on "\\n" only (a trailing "\\r" is dropped), exactly as hark reads stdin.

Default mode: runs the reference in-process and the hark command (one text per stdin line, one
JSON object per stdout line: {"label":..,"score":compound,"neg":..,"neu":..,"pos":..}), then
reports agreement (share of texts whose compound is within 0.001, max |diff|, the worst
mismatches) and throughput. Python's throughput is the polarity_scores loop only, timed
in-process (--repeat N passes; wall clock and thread CPU time). hark's end-to-end figure includes process start-up and I/O, so
it is for information only; for a fair ratio use --bench, which runs
`cargo bench --bench vader_bench -- FILE [--tsv]` (single thread, >= ~2 s of scoring) and
prints the ratio of the two texts/second figures, by wall clock and by CPU time (the latter is
the one to trust when other jobs share the machine).

--reference-only prints the reference scores, one line per text: neg<TAB>neu<TAB>pos<TAB>compound
(used by tests/vader_reference.rs).
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 0.001


def load_analyzer():
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as e:
        sys.exit("error: cannot import vaderSentiment (%s); run: pip install vaderSentiment==3.3.2" % e)
    return SentimentIntensityAnalyzer()


def read_texts(path, tsv):
    with open(path, "rb") as f:
        data = f.read().decode("utf-8")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    texts = []
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if tsv:
            line = line.split("\t", 1)[1] if "\t" in line else ""
        texts.append(line)
    return texts


def time_python(analyzer, texts, repeat):
    """texts/s of the polarity_scores loop alone: (wall clock, this thread's CPU time)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(repeat):
        for t in texts:
            analyzer.polarity_scores(t)
    dt, dc = time.perf_counter() - t0, time.thread_time() - c0
    n = len(texts) * repeat
    return n / max(dt, 1e-9), n / max(dc, 1e-9)


def run_bench(path, tsv):
    cmd = ["cargo", "bench", "--bench", "vader_bench", "--", path] + (["--tsv"] if tsv else [])
    print("running:", " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("error: vader_bench failed (exit %d)" % p.returncode)
    m = re.search(r"texts_per_sec=([0-9.eE+]+)", p.stdout)
    if not m:
        sys.exit("error: no texts_per_sec=N in vader_bench output:\n" + p.stdout)
    c = re.search(r"texts_per_cpu_sec=([0-9.eE+]+)", p.stdout)
    return float(m.group(1)), (float(c.group(1)) if c else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--tsv", action="store_true", help="lines are label<TAB>text")
    ap.add_argument("--hark", default="target/release/hark classify --format jsonl",
                    help="hark command (run in the repository root)")
    ap.add_argument("--repeat", type=int, default=1, help="passes over the texts for Python timing")
    ap.add_argument("--bench", action="store_true", help="also run benches/vader_bench.rs and print the speed ratio")
    ap.add_argument("--worst", type=int, default=15, help="number of worst mismatches to list")
    ap.add_argument("--reference-only", action="store_true", help="print reference scores and exit")
    args = ap.parse_args()

    texts = read_texts(args.file, args.tsv)
    analyzer = load_analyzer()

    if args.reference_only:
        out = sys.stdout
        for t in texts:
            s = analyzer.polarity_scores(t)
            out.write("%r\t%r\t%r\t%r\n" % (s["neg"], s["neu"], s["pos"], s["compound"]))
        return

    ref = [analyzer.polarity_scores(t) for t in texts]
    py_tps, py_cpu_tps = time_python(analyzer, texts, max(1, args.repeat))

    cmd = shlex.split(args.hark)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, input="".join(t + "\n" for t in texts).encode("utf-8"),
                       stdout=subprocess.PIPE)
    hark_wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("error: %r exited with %d" % (args.hark, p.returncode))
    rows = [json.loads(l) for l in p.stdout.decode("utf-8").splitlines() if l.strip()]
    if len(rows) != len(texts):
        sys.exit("error: hark returned %d lines for %d texts" % (len(rows), len(texts)))

    n = len(texts)
    diffs = []
    comp_ok = all_ok = 0
    for i, (r, h) in enumerate(zip(ref, rows)):
        d = abs(r["compound"] - h["score"])
        dd = max(d, abs(r["neg"] - h["neg"]), abs(r["neu"] - h["neu"]), abs(r["pos"] - h["pos"]))
        comp_ok += d <= TOL
        all_ok += dd <= TOL
        diffs.append((d, dd, i))
    print("texts: %d" % n)
    print("compound within %.3g: %d/%d = %.3f%%" % (TOL, comp_ok, n, 100.0 * comp_ok / max(n, 1)))
    print("neg/neu/pos/compound all within %.3g: %d/%d = %.3f%%" % (TOL, all_ok, n, 100.0 * all_ok / max(n, 1)))
    print("max |compound diff|: %.6f   max |any diff|: %.6f" % (max((d[0] for d in diffs), default=0.0),
                                                               max((d[1] for d in diffs), default=0.0)))
    bad = sorted((x for x in diffs if x[1] > TOL), reverse=True)[: args.worst]
    if bad:
        print("worst mismatches (python vs hark):")
        for d, dd, i in bad:
            r, h = ref[i], rows[i]
            print("  line %d: compound %.4f vs %.4f (neg %.3f/%.3f neu %.3f/%.3f pos %.3f/%.3f): %s" % (
                i + 1, r["compound"], h["score"], r["neg"], h["neg"], r["neu"], h["neu"], r["pos"], h["pos"],
                json.dumps(texts[i], ensure_ascii=False)))
    print("python polarity_scores loop: %.0f texts/s (%.0f texts per CPU second)" % (py_tps, py_cpu_tps))
    print("hark end-to-end (process start-up + I/O included, informational): %.0f texts/s" % (n / hark_wall))
    if args.bench:
        rust_tps, rust_cpu_tps = run_bench(os.path.abspath(args.file), args.tsv)
        print("hark vader_bench: %.0f texts/s" % rust_tps
              + (" (%.0f texts per CPU second)" % rust_cpu_tps if rust_cpu_tps else ""))
        print("speed ratio hark/python (wall clock): %.1fx" % (rust_tps / py_tps))
        if rust_cpu_tps:
            print("speed ratio hark/python (CPU time, robust on a busy machine): %.1fx" % (rust_cpu_tps / py_cpu_tps))


if __name__ == "__main__":
    main()
