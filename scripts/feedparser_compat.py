#!/usr/bin/env python3
"""hark's feed layer against Python feedparser's own test suite (issue: lenient feeds).

Every XML file under feedparser's tests/{wellformed,illformed,encoding,entities} carries an
`Expect:` line, a Python expression over what feedparser returns. From it we take the
equality checks on the first entry's title, summary/description/content, link and author
(`entries[0]['title'] == u'...'`, `entries[0]['content'][0]['value'] == ...`, ...). Each
file is served from 127.0.0.1:8097 (the port the expectations hard-code) with the HTTP
headers its `Header:` comments name, exactly as feedparser's runtests.py serves it; each is
collected with `hark run --once` in a deployment of its own (one `feed` source, a
match-all query; ids are scoped by host, so files must not share an index) and read back
with `hark search --format jsonl`. Then, per check:

  feedparser matches  the expression holds on feedparser.parse(url)
  hark matches        the stored mention's field equals the expected value, compared as
                      text: HTML tags dropped (feedparser keeps sanitised HTML, hark stores
                      text), entities decoded, whitespace collapsed. An author check passes
                      when hark's author is the expected string or its name part
                      ("Name (mail@x)" -> "Name").

A file with several entries passes when any stored mention of that file matches (hark keeps
no document order; nearly all test files have one entry).

Prints the totals, the failures grouped by folder, and (with --list) every hark failure.
Usage: feedparser_compat.py HARK_BINARY FEEDPARSER_SOURCE_DIR WORKDIR [--list]
"""
import ast
import concurrent.futures
import html
import html.parser
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from collections import Counter, defaultdict

import feedparser

FIELDS = {
    ("title",): "title",
    ("title_detail", "value"): "title",
    ("summary",): "text",
    ("description",): "text",
    ("summary_detail", "value"): "text",
    ("content", 0, "value"): "text",
    ("link",): "url",
    ("author",): "author",
    ("author_detail", "name"): "author",
}
FOLDERS = ["wellformed", "illformed", "encoding", "entities"]
PORT = 8097


def subscript_path(node):
    """entries[0]['a'][0]['b'] -> ('entries', 0, 'a', 0, 'b'), else None."""
    path = []
    while isinstance(node, ast.Subscript):
        s = node.slice
        if isinstance(s, ast.Constant):
            path.append(s.value)
        else:
            return None
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    path.append(node.id)
    return tuple(reversed(path))


def checks_of(expect):
    """The (field path, expected string) equality checks on entries[0] in an Expect line."""
    try:
        tree = ast.parse(expect, mode="eval").body
    except SyntaxError:
        return []
    terms = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    out = []
    for t in terms:
        if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq)):
            continue
        path = subscript_path(t.left)
        if not path or path[:2] != ("entries", 0) or path[2:] not in FIELDS:
            continue
        try:
            value = ast.literal_eval(t.comparators[0])
        except ValueError:
            continue
        if isinstance(value, str):
            out.append((path[2:], value, ast.unparse(t)))
    return out


class TextOf(html.parser.HTMLParser):
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "blockquote"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        elif tag in ("p", "div", "li", "tr", "h1", "h2", "h3", "blockquote"):
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def as_text(s):
    if "<" in s:
        p = TextOf()
        p.feed(s)
        p.close()
        s = "".join(p.parts)
    else:
        s = html.unescape(s)
    return " ".join(s.split())


def hark_matches(field, expected, mentions):
    want = as_text(expected) if field in ("title", "text") else expected.strip()
    for m in mentions:
        got = m.get(field) or ""
        if field in ("title", "text"):
            # Text equal to the value read as HTML, or to the value itself (a plain-text
            # title such as 'History of the <blink> tag').
            if " ".join(got.split()) in (want, " ".join(expected.split())):
                return True
        elif field == "author":
            got = got.strip()
            if got == want or (got and re.fullmatch(re.escape(got) + r" \(.*\)", want)):
                return True
            if got and want == as_text(got):
                return True
        elif got == want or normal_url(got) == normal_url(want):
            return True
    return False


def normal_url(u):
    """Scheme and host are case-insensitive: http://item.TEST/ is http://item.test/."""
    try:
        p = urllib.parse.urlsplit(u.strip())
        return urllib.parse.urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path, p.query, p.fragment))
    except ValueError:
        return u


class Handler(http.server.SimpleHTTPRequestHandler):
    headers_re = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)

    def send_head(self):
        path = self.translate_path(self.path)
        try:
            blob = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return None
        headers = {k.decode(): v.decode().strip() for k, v in self.headers_re.findall(blob)}
        self.send_response(int(headers.pop("Status", 200)))
        self.send_header("Content-type", headers.pop("Content-type", self.guess_type(path)))
        self.send_header("Content-Length", str(len(blob)))
        for k, v in headers.items():
            if k.lower() not in ("content-length", "last-modified", "etag"):
                self.send_header(k, v)
        self.end_headers()
        import io
        return io.BytesIO(blob)

    def log_message(self, *a):
        pass


def main():
    hark, src, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    listing = "--list" in sys.argv
    os.makedirs(os.path.join(work, "queries"), exist_ok=True)
    cases = []  # (file relpath, field path, expected, expression)
    for folder in FOLDERS:
        base = os.path.join(src, "tests", folder)
        for root, _, files in os.walk(base):
            for f in sorted(files):
                if not f.endswith(".xml"):
                    continue
                rel = os.path.relpath(os.path.join(root, f), src)
                text = open(os.path.join(src, rel), "rb").read().decode("utf-8", "replace")
                m = re.search(r"^Expect:\s*(.*)$", text, re.MULTILINE)
                if not m:
                    continue
                for path, value, expr in checks_of(m.group(1).strip()):
                    cases.append((rel, path, value, expr))
    files = sorted({c[0] for c in cases})
    os.chdir(src)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    names = {rel: f"f{i}" for i, rel in enumerate(files)}

    def collect(rel):
        """One deployment per file: ids are scoped by host, so files must not share an index."""
        d = os.path.join(work, names[rel])
        os.makedirs(os.path.join(d, "queries"), exist_ok=True)
        cfg = os.path.join(d, "hark.toml")
        with open(cfg, "w") as f:
            f.write('[storage]\ndata_dir = "data"\n[http]\nretries = 0\n\n'
                    f'[[sources]]\nname = "{names[rel]}"\nkind = "feed"\n'
                    f'urls = ["http://127.0.0.1:{PORT}/{rel}"]\n')
        with open(os.path.join(d, "queries", "all.toml"), "w") as q:
            q.write("match = 'NOT \"zzqqxxyyzz\"'\n")
        run = subprocess.run([hark, "--config", cfg, "run", "--once"], capture_output=True, text=True)
        out = subprocess.run([hark, "--config", cfg, "search", "--format", "jsonl", "--limit", "100000"],
                             capture_output=True, text=True).stdout
        report = json.loads(run.stdout) if run.stdout.strip().startswith("{") else {}
        return rel, [json.loads(l) for l in out.splitlines()], report

    by_source, dropped = {}, Counter()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for rel, mentions, report in pool.map(collect, files):
            by_source[names[rel]] = mentions
            for s in report.get("sources", []):
                if s.get("errors"):
                    dropped["feeds failed"] += 1
    summary = [f"{sum(len(v) for v in by_source.values())} mentions stored; "
               + ", ".join(f"{k}: {v}" for k, v in dropped.items())]
    fp_cache = {}
    both = hark_ok = fp_only_fail = 0
    fails = Counter()
    failures = []
    for rel, path, value, expr in cases:
        if rel not in fp_cache:
            fp_cache[rel] = feedparser.parse(f"http://127.0.0.1:{PORT}/{rel}")
        try:
            fp_ok = bool(eval(expr, {}, dict(fp_cache[rel])))
        except Exception:
            fp_ok = False
        ok = hark_matches(FIELDS[path], value, by_source.get(names[rel], []))
        if not fp_ok:
            fp_only_fail += 1
            continue
        both += 1
        if ok:
            hark_ok += 1
        else:
            fails[rel.split("/")[1] + ("/" + rel.split("/")[2] if rel.startswith("tests/wellformed") else "")] += 1
            got = [{k: m.get(k) for k in ("title", "text", "url", "author")} for m in by_source.get(names[rel], [])]
            failures.append((rel, expr, got))
    server.shutdown()
    print(f"checks: {len(cases)} on {len(files)} files; feedparser matches {both}, "
          f"fails {fp_only_fail}")
    print(f"hark matches {hark_ok} of feedparser's {both} ({100.0 * hark_ok / max(both, 1):.1f} %)")
    if summary:
        print(f"hark: {summary[0]}")
    print("hark misses by folder:", ", ".join(f"{k} {v}" for k, v in fails.most_common()))
    if listing:
        for rel, expr, got in failures:
            print(f"\n{rel}\n  expect {expr}\n  hark   {json.dumps(got, ensure_ascii=False)[:600]}")


if __name__ == "__main__":
    main()
