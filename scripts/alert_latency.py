#!/usr/bin/env python3
"""Alert latency of `hark run`: a deployment with 15 days of calm history imported, a feed on
127.0.0.1 polled every 2 s, and a webhook receiver. The feed suddenly carries a burst of 30
negative mentions; prints the time from that moment to the webhook delivery.
Run from an empty working directory after `cargo build --release`."""
import datetime as dt
import http.server
import json
import os
import random
import subprocess
import threading
import time
HARK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "hark")
now = dt.datetime.now(dt.timezone.utc)
random.seed(3)
with open("history.jsonl", "w") as f:
    t = now - dt.timedelta(days=15); n = 0
    while t < now - dt.timedelta(minutes=5):
        label = "negative" if random.random() < 0.15 else random.choice(["neutral", "positive"])
        f.write(json.dumps({"id": f"h:{n}", "text": "acme routine", "published_at": t.isoformat(), "sentiment": label}) + "\n")
        n += 1; t += dt.timedelta(seconds=random.uniform(200, 500))
feed = {"body": "<rss version='2.0'><channel><title>t</title></channel></rss>"}
received = []
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = feed["body"].encode(); self.send_response(200); self.send_header("content-type", "application/rss+xml"); self.end_headers(); self.wfile.write(b)
    def do_POST(self):
        l = int(self.headers["content-length"]); self.rfile.read(l); received.append(time.time()); self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H); port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
open("hark.toml", "w").write(f'[[sources]]\nname = "f"\nkind = "feed"\ninterval = "2s"\nurls = ["http://127.0.0.1:{port}/feed.rss"]\n')
os.makedirs("queries", exist_ok=True); os.makedirs("alerts", exist_ok=True)
open("queries/acme.toml", "w").write("match = 'acme'\n")
open("alerts/neg.toml", "w").write(f'query = "acme"\nkind = "negative_spike"\n[[channels]]\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/hook"\n')
subprocess.run([HARK, "import", "history.jsonl"], check=True, capture_output=True)
p = subprocess.Popen([HARK, "run"], stderr=open("run.log", "w"), stdout=subprocess.DEVNULL)
time.sleep(4)
items = "".join(f"<item><title>acme outage {i}</title><guid>b{i}</guid><pubDate>{(dt.datetime.now(dt.timezone.utc)-dt.timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate><description>acme is down, terrible, awful service</description></item>" for i in range(30))
t0 = time.time(); feed["body"] = f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"
while not received and time.time() - t0 < 90: time.sleep(0.05)
p.terminate(); p.wait()
print("burst published -> webhook received: %.2f s" % (received[0] - t0) if received else "no alert")
