#!/usr/bin/env python3
"""Writes N synthetic mentions as JSON lines (for import benchmarks).

Texts are built from tweet-like fragments about five brands, spread over 90 days, with
engagement counters; sentiment and queries are left out so `hark import` computes them.
Usage: gen_mentions.py N OUT.jsonl [--seed S]
"""
import json
import random
import sys
from datetime import datetime, timedelta, timezone

BRANDS = ["acme", "globex", "initech", "umbrella", "hooli"]
OPENERS = ["just tried", "honestly", "ugh", "wow", "so", "yesterday I used", "my friend says", "lol"]
BODIES = [
    "the new {b} app is great and fast",
    "{b} support never answers, terrible service",
    "is {b} down again? nothing loads",
    "really love how {b} handled the refund",
    "{b} raised prices again, not happy at all",
    "switching from {b} to something else, worst experience",
    "the {b} store downtown was busy today",
    "{b} announced a partnership with a startup",
    "can't believe how good the {b} update is!!!",
    "meh, {b} is fine I guess",
]
TAILS = ["", " #{b}", " @{b}", " :)", " :(", " 😡", " 🙂", " http://t.co/x", " so disappointed", " highly recommend"]


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rnd = random.Random(seed)
    start = datetime(2026, 8, 1, tzinfo=timezone.utc)
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            b = rnd.choice(BRANDS)
            text = " ".join([rnd.choice(OPENERS), rnd.choice(BODIES).format(b=b) + rnd.choice(TAILS).format(b=b)])
            t = start + timedelta(seconds=rnd.randrange(90 * 86400))
            m = {
                "id": f"bench:{i}",
                "source": rnd.choice(["reddit-main", "news", "forum", "mastodon"]),
                "source_kind": "bench",
                "url": f"https://example.com/m/{i}",
                "author": f"user{rnd.randrange(50000)}",
                "text": text,
                "published_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "engagement": {
                    "likes": rnd.randrange(100),
                    "shares": rnd.randrange(10),
                    "comments": rnd.randrange(20),
                    "views": None,
                    "followers": int(rnd.paretovariate(1.2) * 50),
                },
            }
            f.write(json.dumps(m, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
