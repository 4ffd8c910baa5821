#!/usr/bin/env python3
"""Generate demo/sample.jsonl, the bundled sample behind `hark demo`.

Every brand, person, place and sentence here is invented for hark.  The sample
covers 14 days of mentions of "Brightwave" (a broadband/mobile provider), its
competitor "Nimbus Mobile", unrelated noise and a look-alike company
("Brightwaver Audio"), ending with a burst of ~60 outage complaints in the last
three hours so that the demo's negative-spike alert fires.

Each line is one item:
    {"feed", "offset_min", "author", "title", "text",
     "likes", "shares", "comments", "followers", "link"}
where offset_min is minutes before the demo's "now".  The daily rhythm assumes
"now" is a Wednesday mid-afternoon; on another clock it merely shifts.

Deterministic (fixed seed, stdlib only):  python3 demo/gen_sample.py
"""

import datetime
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

SEED = 20240515
OUT = Path(__file__).resolve().parent / "sample.jsonl"

DAYS = 14
BURST_MIN = 180  # the burst lives in offset_min 0..BURST_MIN
NOTIONAL_NOW = datetime.datetime(2024, 5, 15, 15, 30)  # a Wednesday, 15:30
HOUR_WEIGHT = [0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.40, 0.70, 0.90, 1.00,
               1.00, 1.00, 0.95, 1.00, 1.00, 1.00, 0.95, 0.90, 0.95, 1.00,
               0.95, 0.80, 0.55, 0.30]
WEEKEND_WEIGHT = 0.55

# Background plan (burst comes on top): 340 items.
N_BW_EN = {"positive": 92, "neutral": 71, "negative": 32}
N_BW_FOREIGN = 20
N_NIMBUS = {"positive": 30, "neutral": 30, "negative": 20}
N_NOISE = 36
FEED_WEIGHTS = {"news": 0.24, "forum": 0.30, "social": 0.46}
BURST_FEEDS = ["social"] * 44 + ["forum"] * 12 + ["news"] * 4

BRAND_RE = re.compile(r"\bbrightwave\b", re.I)
NIMBUS_RE = re.compile(r"\bnimbus\s*mobile\b|@nimbusmobile\b", re.I)

rng = random.Random(SEED)

# ---------------------------------------------------------------- vocabulary

TOWNS = ["Ashcombe", "Millbrook", "Harlow Green", "Eastvale", "Kingsmere",
         "Redfield", "Westbury Park", "Larkhill", "Stonebridge", "Oakridge",
         "Fennick", "Darrowby Cross", "Pellham", "Southmoor", "Quarry Lane"]
TOWNS_FR = ["Villeneuve-sur-Lande", "Saint-Aubin-des-Prés", "Montclair-le-Haut",
            "Bellerive", "Rochebrune"]
TOWNS_DE = ["Lindenau", "Birkenfeld am See", "Hohenwald", "Talheim-Nord",
            "Steinbach"]
FIRST = ["Maya", "Jonas", "Priya", "Tomasz", "Aisha", "Callum", "Ines", "Kofi",
         "Lena", "Mateo", "Nadia", "Oren", "Ruth", "Samir", "Talia", "Viktor",
         "Wen", "Yusuf", "Zoe", "Bram", "Carys", "Dev", "Elif", "Finn",
         "Greta", "Hugo", "Ilse", "Jae", "Kira", "Luca", "Mira", "Noel"]
LAST = ["Okafor", "Lindqvist", "Raman", "Wierzba", "Haddad", "Fraser",
        "Moreau", "Mensah", "Brandt", "Ortega", "Petrova", "Adler", "Quint",
        "Farouk", "Ashby", "Novak", "Tanaka", "Demir", "Kessler", "Vance",
        "Holloway", "Ibarra", "Crane", "Duval"]
HANDLE_BITS = ["fiber", "pixel", "night", "coffee", "tea", "byte", "loop",
               "fox", "otter", "lamp", "cloud", "garden", "retro", "bike",
               "synth", "pasta", "moss", "comet", "quiet", "static"]
OUTLETS = ["Eastvale Courier", "The Connected Home", "Broadband Weekly",
           "Kingsmere Gazette", "Signal & Wire", "Netspeed Review",
           "The Morning Ledger", "Telco Insider"]
FORUM_WORDS = ["lurker", "tinkerer", "dad", "admin", "gamer", "nerd",
               "commuter", "homeowner", "sysop", "student"]
DAYNAMES = ["Monday", "Tuesday", "Thursday", "Friday", "Saturday"]

# ------------------------------------------------------------------ helpers


def pick(seq):
    return rng.choice(seq)


def chance(p):
    return rng.random() < p


def bw_ref(feed):
    """A way of writing the Brightwave brand, by feed."""
    if feed == "social":
        return pick(["Brightwave"] * 4 + ["@brightwave"] * 4 +
                    ["#brightwave"] * 2 + ["#Brightwave", "BRIGHTWAVE",
                                           "brightwave"])
    if feed == "forum":
        return pick(["Brightwave"] * 6 + ["brightwave", "BRIGHTWAVE"])
    return "Brightwave"


def bw_product(feed):
    if feed == "social":
        return pick(["Brightwave Fiber", "Brightwave fiber", "brightwave fiber",
                     "BRIGHTWAVE FIBER"])
    return pick(["Brightwave Fiber"] * 3 + ["Brightwave Fiber 1 Gig"])


def nimbus_ref(feed):
    if feed == "social":
        return pick(["Nimbus Mobile"] * 3 + ["@nimbusmobile"] * 3 +
                    ["#NimbusMobile", "NIMBUS MOBILE", "nimbus mobile"])
    return "Nimbus Mobile"


# Slots that keep one value within an item (title and body name the same
# town); cleared by unique() before each item is built.
STICKY = {"town", "townfr", "townde", "n", "low", "m", "k", "pct", "num",
          "day", "person"}
_sticky = {}


def fill(template, feed, brand="brightwave"):
    """Replace {b} {p} {town} {n} ... with random values."""
    def sub(m):
        key = m.group(1)
        if key in STICKY:
            if key not in _sticky:
                _sticky[key] = value(key)
            return _sticky[key]
        return value(key)

    def value(key):
        ref = bw_ref if brand == "brightwave" else nimbus_ref
        if key == "b":
            return ref(feed)
        if key == "B":  # sentence start in prose feeds: always plain name
            return "Brightwave" if brand == "brightwave" else "Nimbus Mobile"
        if key == "p":
            return bw_product(feed) if brand == "brightwave" else pick(
                ["Nimbus Mobile 5G Unlimited", "Nimbus Mobile Home 5G",
                 "Nimbus Mobile Flex"])
        if key == "town":
            return pick(TOWNS)
        if key == "townfr":
            return pick(TOWNS_FR)
        if key == "townde":
            return pick(TOWNS_DE)
        if key == "n":
            return str(rng.choice([280, 340, 412, 486, 530, 611, 744, 866,
                                   903, 938]))
        if key == "low":
            return str(rng.randint(11, 48))
        if key == "m":
            return str(rng.choice([35, 40, 55, 70, 90, 110, 120]))
        if key == "k":
            return str(rng.randint(3, 9))
        if key == "pct":
            return str(rng.randint(4, 19))
        if key == "num":
            return str(rng.randint(9, 41))
        if key == "day":
            return pick(DAYNAMES)
        if key == "person":
            return person_name()
        raise KeyError(key)

    return re.sub(r"\{(\w+)\}", sub, template)


def person_name():
    return f"{pick(FIRST)} {pick(LAST)}"


def handle():
    style = rng.randrange(4)
    first, last = pick(FIRST).lower(), pick(LAST).lower()
    if style == 0:
        return f"{first}_{last}"
    if style == 1:
        return f"{first}{last[:3]}{rng.randint(1, 99)}"
    if style == 2:
        return f"{pick(HANDLE_BITS)}{pick(HANDLE_BITS)}"
    return f"{first}.{pick(HANDLE_BITS)}"


def forum_user():
    if chance(0.5):
        return f"{pick(HANDLE_BITS)}_{pick(FORUM_WORDS)}{rng.randint(2, 990)}"
    return f"{pick(FIRST)}{pick(LAST)[0]}"


def author_for(feed):
    if feed == "news":
        return f"{person_name()}, {pick(OUTLETS)}"
    if feed == "forum":
        return forum_user()
    return handle()


def sentences(pool, k):
    return " ".join(rng.sample(pool, k))


def htmlize(paragraphs, brand_word):
    """Render news paragraphs, sometimes as light HTML."""
    if not chance(0.5):
        return "\n\n".join(paragraphs)
    out = "".join(f"<p>{p}</p>" for p in paragraphs)
    return out.replace(brand_word, f"<b>{brand_word}</b>", 1)


def social_post(core, openers, closers, feed="social", brand="brightwave",
                caps=0.0):
    text = fill(core, feed, brand)
    if chance(0.35):
        text = fill(pick(openers), feed, brand) + " " + text
    text = text + fill(pick(closers), feed, brand)
    if chance(caps):
        text = text.upper()
    return text

# -------------------------------------------------------- Brightwave, social

BW_SOCIAL = {
    "positive": [
        "{b} install done in under an hour, the tech was super friendly",
        "speed test on {p}: {n} Mbps down at 9pm. not bad at all",
        "three months with {b} and zero drops so far",
        "shoutout to {b} support, fixed my billing mix-up in one call",
        "{p} finally reached our street in {town} and wow, that upload speed",
        "gaming on {p} tonight and the ping is great",
        "moved house and {b} had us online the same day. impressed",
        "the new {b} router is so much better than the old white brick",
        "{b} app finally shows my usage clearly, nice update",
        "kids streaming, me on a video call, partner gaming and {p} handles it all",
        "honestly expected worse from {b}, pleasantly surprised",
        "{b} price lock for two years? happy to take it",
        "uploaded 40GB of footage over {p} in minutes. love it",
        "{b} sent a tech out on a Sunday. respect",
        "not bad {b}, not bad at all. the evening slowdowns are gone",
        "my parents in {town} switched to {b} and they are thrilled",
        "{b} support chat answered in 2 minutes and actually helped. wow",
        "{p} is the best upgrade we made this year",
        "dear {b}, the new mesh extender works great. thank you",
        "can't complain about {b} at all, steady {n} Mbps every day",
    ],
    "neutral": [
        "does {b} cover {town} yet? asking for a friend",
        "{b} tech coming tomorrow between 8 and 12",
        "anyone on {p} in {town}? what speeds do you get",
        "switching to {b} next week, any tips for the router setup",
        "{b} changed the app icon again",
        "got a letter from {b} about network work on {day}",
        "is the {b} 500 plan enough for a family of four?",
        "the {b} shop in {town} closes at 5 today",
        "porting my number over to {b}, takes two days apparently",
        "{b} announced new plans today, reading the small print now",
        "my {b} bill is due on the 14th now instead of the 1st",
        "which {b} router model do you have, the black one or the grey one?",
        "{b} engineers digging up the pavement on our road this morning",
        "does {p} come with a static IP or is that extra?",
        "new {b} ad on the bus stop outside my flat",
        "how long does {b} take to activate a new line in {town}?",
    ],
    "negative": [
        "{b} bill went up again with no warning. annoying",
        "wifi from the {b} router keeps dropping every evening, so frustrating",
        "{m} minutes on hold with {b} just to change my address. not great",
        "evening speeds on {p} have been disappointing lately",
        "{b} charged me twice this month and nobody can explain why. ugh",
        "why does {b} keep spamming me with upgrade offers, so annoying",
        "the {b} technician didn't show up. wasted a whole morning",
        "the {b} app logs me out every single time, really annoying",
        "slow, slow, slow. {p} is nowhere near what was advertised, sad",
        "{b} sold me a plan my street can't even get. poor",
        "another price rise from {b}? seriously bad timing",
        "my {b} router reboots itself at 2am every night, annoying and stupid",
    ],
}
BW_SOCIAL_OPEN = ["ok,", "honestly,", "small win:", "update:", "PSA:",
                  "hot take:", "day {num} with {b}:", "fyi"]
BW_SOCIAL_CLOSE = {
    "positive": ["", "", " 🙂", " 👍", " 🎉", "!!!", " 10/10", " #fiber",
                 " #wfh", " 🙂 #brightwave"],
    "neutral": ["", "", "", " 🤔", " #broadband", " anyone?", " #fiber"],
    "negative": ["", " 😒", " 🙄", " ugh", " #fail", " 😡", "!!!"],
}

# --------------------------------------------------------- Brightwave, forum

BW_FORUM_TITLES = {
    "positive": ["{B} Fiber install experience ({town})",
                 "{B} one month in: very happy",
                 "Switched from cable to {B}, no regrets",
                 "{B} router is better than expected",
                 "{B} support sorted my line fault quickly",
                 "Great speeds on {B} Fiber in {town}"],
    "neutral": ["{B} router bridge mode?",
                "Is {B} available in {town}?",
                "{B} vs cable: my numbers after a month",
                "{B} IPv6 support?",
                "Moving house with {B}: how long does it take?",
                "{B} 500 or 1 Gig for a small office?",
                "{B} static IP pricing"],
    "negative": ["{B} price rise letter",
                 "{B} evening slowdowns in {town}",
                 "{B} billing errors again",
                 "{B} router keeps rebooting",
                 "Frustrating {B} support experience"],
}
BW_FORUM_LEAD = {
    "positive": ["Got {p} installed last week in {town}.",
                 "Been on {b} for about a month now.",
                 "Quick report on {b} after switching from cable.",
                 "Finally took the plunge with {b}."],
    "neutral": ["Thinking about signing up with {b}.",
                "I have a question about {p}.",
                "Our building just got {b} wired in.",
                "Comparing plans and {b} came up."],
    "negative": ["Had a letter from {b} this week.",
                 "Been with {b} for two years and something changed lately.",
                 "Posting this to see if other {b} customers see the same.",
                 "Long-time {b} customer here."],
}
BW_FORUM_BODY = {
    "positive": ["Install took about an hour and the engineer tidied up after himself.",
                 "Speeds have been steady at around {n} Mbps, even in the evening.",
                 "Support answered within a few minutes and sorted it.",
                 "The router is decent, though I put my own mesh behind it.",
                 "Overall really happy so far.",
                 "Latency for gaming is excellent.",
                 "Price is fair for what you get.",
                 "Not a single drop since day one."],
    "neutral": ["Does anyone know whether bridge mode is allowed on the new router?",
                "The coverage map says coming soon for my postcode.",
                "Contract is 18 months, with a setup fee waived this month.",
                "I work from home two days a week, mostly video calls.",
                "Would be good to hear what speeds people actually get.",
                "I mainly need a stable upload for backups.",
                "The shop said activation takes three to five days."],
    "negative": ["The bill went up by {k} a month without a clear explanation.",
                 "Evening speeds drop to {low} Mbps, which is frustrating.",
                 "Support keeps giving me scripted answers, very disappointing.",
                 "I was told an engineer would call back and nobody did.",
                 "This is the third billing error this year, which is poor.",
                 "Honestly starting to regret the switch."],
}

# ---------------------------------------------------------- Brightwave, news

BW_NEWS = {
    "positive": [
        ("{B} brings gigabit fiber to {num} more towns",
         ["{B} said on {day} that its fiber network now reaches {num} additional towns, including {town}.",
          "The company expects to pass another 40,000 homes before the end of the year, and early customers report strong, reliable speeds.",
          "\"People tell us the difference is night and day,\" said {person}, the company's head of network."]),
        ("{B} tops regional broadband satisfaction survey",
         ["{B} came first in an independent satisfaction survey of home broadband providers in the region.",
          "Customers rated its installation process and support especially highly, praising quick fixes and friendly engineers.",
          "Analyst {person} called the result a clear win for the challenger brand."]),
        ("Review: {B} Fiber 1 Gig is fast, fair and refreshingly simple",
         ["We spent three weeks with {p} in {town}.",
          "Download speeds averaged {n} Mbps and upload was nearly symmetrical, which is excellent for video calls and backups.",
          "The included router is good, the app is clear, and pricing has no nasty surprises. Recommended."]),
        ("{B} adds free router upgrade for existing customers",
         ["{B} will replace older routers free of charge from next month.",
          "The new model supports the latest wifi standard and should improve coverage in larger homes.",
          "Customers welcomed the move on social media, calling it a generous gesture."]),
    ],
    "neutral": [
        ("{B} reports quarterly subscriber numbers",
         ["{B} said it added roughly {num},000 broadband customers in the quarter.",
          "Revenue was broadly in line with expectations, according to the company's filing.",
          "Chief financial officer {person} said investment in the fiber rollout would continue at the current pace."]),
        ("{B} names new head of network",
         ["{B} has appointed {person} to lead its network division.",
          "The appointment follows a reorganisation announced earlier this year.",
          "The company did not comment on further changes."]),
        ("{B} to trial home 5G broadband in {town}",
         ["{B} will test a fixed wireless service in {town} for six months.",
          "The trial covers around 300 homes that cannot yet get fiber.",
          "Results will decide whether the service is offered more widely."]),
        ("What {B}'s new pricing means for you",
         ["{B} is changing the structure of its plans from next month.",
          "Existing customers keep their current price until the end of their contract, the company said.",
          "We compared the old and new tiers line by line."]),
        ("{B} opens new customer centre in {town}",
         ["{B} has opened a customer centre on the high street in {town}.",
          "The centre offers device repairs and plan changes, and will be open six days a week.",
          "Around 25 staff will work there."]),
    ],
    "negative": [
        ("{B} price rise draws complaints",
         ["{B} customers have complained about a price increase of {pct} percent announced this week.",
          "Several told us they felt misled, saying the change was buried in an email.",
          "The company said the rise reflected higher costs."]),
        ("Regulator fines {B} over billing errors",
         ["The telecoms regulator has fined {B} after finding repeated billing errors affecting thousands of customers.",
          "Some customers were charged twice for the same month, the regulator said.",
          "{B} apologised and said refunds were being processed."]),
        ("{B} customers report slow evening speeds",
         ["Readers in {town} say their {B} connections slow badly in the evening, with some reporting under {low} Mbps.",
          "The problem appears worst between 8pm and 11pm.",
          "{B} said it was aware of congestion and was adding capacity."]),
    ],
}

# ---------------------------------------------------------------- the burst

# VADER flips the polarity of a word within three tokens after a negation
# ("not", "no", "can't", "nothing"), so the emotion comes right after the
# opener, and a complaint with "not" comes last.
BURST_OPEN = [
    "{b} fiber down AGAIN.",
    "No internet since this morning, {b} down all over {town}.",
    "{p} down in {town} since 7am.",
    "{b} is down for our whole street.",
    "Still no internet. {b} outage going on three hours now.",
    "{b} where is my internet??",
    "Is {b} down for everyone or just me?",
    "Whole neighbourhood offline, {b} down again.",
    "{p} down since breakfast.",
    "{b} outage in {town}, router lights blinking red.",
    "{b} has said zero about this outage so far.",
    "Brightwave fiber down across {town}.",
    "{b} down. Again. On a weekday.",
    "Three hours offline because of {b}.",
]
BURST_EMOTION = [
    "This is unacceptable.",
    "Absolutely terrible service.",
    "Worst provider I have ever had.",
    "So angry right now 😡",
    "Useless.",
    "Furious.",
    "Really disappointed in you.",
    "I hate this company.",
    "Everything is broken.",
    "Awful.",
    "Terrible, just terrible.",
    "Shameful and disgusting.",
    "Pathetic and unacceptable.",
    "Worst day with the worst ISP.",
    "Angry doesn't even cover it.",
    "Broken service, useless company.",
    "Horrible, horrible outage.",
    "I am so angry 😡😡",
]
BURST_COMPLAINT = [
    "Support line not answering.",
    "Been on hold for {m} minutes.",
    "The status page is still green while the whole network is dead.",
    "The chat bot just closes my ticket.",
    "I want a refund for today.",
    "Zero work, zero streaming, zero calls.",
    "Paying for 1 Gig and getting zero.",
    "Missed a client call because of this.",
    "Still waiting on an ETA or any update.",
    "Support line not answering, chat not loading.",
    "My whole team is offline.",
    "Tethering off my phone and it's crawling.",
    "Refund or I'm cancelling.",
    "On hold for {m} minutes and counting.",
]
BURST_TAGS = ["", "", "", " #brightwave #outage", " #outage", " #BrightwaveDown",
              " #brightwave"]
BURST_FORUM_TITLES = [
    "{B} down in {town}?", "Outage thread: {B} Fiber down",
    "No internet since this morning ({B})", "{B} helpline unreachable, awful",
    "{B} outage refund?", "{B} down again, anyone else?",
    "Terrible {B} outage today", "{B} fiber down across {town}",
]
BURST_NEWS = [
    ("{B} outage leaves customers offline across the region",
     ["Thousands of {B} customers have been without internet since this morning after a fault hit its fiber network.",
      "Angry users said the support line was not answering and called the handling of the outage terrible and unacceptable.",
      "{B} has not given a time for the fix. Some customers are demanding a refund."]),
    ("Angry {B} customers report hours-long fiber outage",
     ["Complaints about a {B} fiber outage surged on social media on {day}, with users in {town} among the worst hit.",
      "Many described the service as broken and support as useless.",
      "The company said engineers were investigating a serious fault."]),
    ("{B} fiber down: what we know so far",
     ["{B} Fiber is down for a large number of homes, and the outage has lasted several hours.",
      "Customers are furious that the status page showed no problem for most of the morning.",
      "We will update this story as we learn more about this disruptive failure."]),
    ("{B} support overwhelmed as outage drags on",
     ["Callers to {B} reported hold times of over an hour as the fiber outage continued.",
      "\"It is the worst outage I can remember, and nobody is answering,\" one angry customer told us.",
      "Consumer groups called the lack of communication disappointing and unacceptable."]),
]
# The single most influential burst post (fixed, so tests can look for it).
BURST_TOP = {
    "author": "tamsinreyes_tech",
    "followers": 250_000,
    "text": ("Hearing from hundreds of angry readers: Brightwave Fiber down "
             "across the north side. Terrible, awful handling, @brightwave. "
             "No internet since this morning and the support line not "
             "answering. Customers want a refund. #brightwave #outage"),
}

# ------------------------------------------------------------ Nimbus Mobile

NIMBUS_SOCIAL = {
    "positive": ["{b} 5G coverage in {town} is excellent now",
                 "switched my phone plan to {b}, half the price and great signal",
                 "{b} roaming worked perfectly on holiday. love it",
                 "{p} is honestly great value",
                 "{b} customer service was super helpful today",
                 "not bad {b}, the new app is slick",
                 "{b} gave me a free data boost for my birthday, nice"],
    "neutral": ["anyone tried {p}? thinking about it",
                "{b} sim arrived, activating tonight",
                "does {b} do eSIM on older phones?",
                "{b} announced a new family plan today",
                "{b} or keep my current contract? hmm",
                "which {b} plan do you use for hotspotting?"],
    "negative": ["{b} signal in {town} is terrible again",
                 "{b} dropped three calls on my commute. annoying",
                 "{b} bill has a mystery charge on it. not happy",
                 "why is {b} data so slow at lunchtime, frustrating",
                 "{b} support bot is useless"],
}
NIMBUS_CLOSE = ["", "", " 📶", " 🙂", " #5G", " 🙄", "!!"]
NIMBUS_FORUM = {
    "positive": [("{B}: great 5G speeds in {town}",
                  ["Moved to {p} last month.", "Speeds around {n} Mbps on 5G.",
                   "Very happy with the coverage.", "Price is good too."]),
                 ("{B} roaming was painless",
                  ["Just back from two weeks abroad on {b}.", "Data worked the moment we landed.",
                   "No surprise charges on the bill.", "Impressed, honestly."]),
                 ("Switched to {B} for home 5G, pleased so far",
                  ["We can't get fiber in {town}, so tried {p}.", "Getting {n} Mbps most evenings.",
                   "Setup took ten minutes.", "Good value."])],
    "neutral": [("{B} eSIM activation question",
                 ["Anyone activated a {b} eSIM recently?", "The shop said it takes a day.",
                  "Does it work with dual SIM phones?", "Planning to port my number."]),
                ("{B} coverage near {town}?",
                 ["Thinking about {p} for a new job in {town}.", "The map shows 4G only.",
                  "Any real-world reports?", "I mostly need maps and calls."]),
                ("{B} family plan: how does data sharing work?",
                 ["Looking at the new {b} family plan.", "Is the data pooled or split per line?",
                  "We have three phones and a tablet.", "Contract would be 12 months."])],
    "negative": [("{B} dropped calls on the train line",
                  ["My {b} phone drops calls between {town} and the city.",
                   "Support just told me to restart the phone, which was useless.",
                   "Pretty disappointed.", "Thinking about leaving."]),
                 ("{B} bill has charges I don't recognise",
                  ["My last {b} bill was {k} higher than usual.", "Nobody could explain the extra charge.",
                   "Frustrating and a waste of an afternoon.", "Anyone else?"]),
                 ("{B} data slow at lunchtime in {town}",
                  ["Every day around noon {p} crawls.", "Speed tests show under {low} Mbps.",
                   "Really annoying for a premium plan.", "Support was no help."])],
}
NIMBUS_NEWS = {
    "positive": [("{B} expands 5G to {num} new towns",
                  ["{B} switched on 5G in {num} more towns this week, including {town}.",
                   "Early tests show strong speeds.", "The company praised its engineering teams."]),
                 ("{B} wins award for mobile coverage",
                  ["{B} was named best mobile network for coverage at an industry event on {day}.",
                   "Judges praised its rural rollout.", "Chief executive {person} thanked staff."])],
    "neutral": [("{B} launches family plan",
                 ["{B} has launched a shared family plan for up to five lines.",
                  "The plan starts next month.", "Chief executive {person} said more bundles would follow."]),
                ("{B} to open store in {town}",
                 ["{B} will open a store in {town} next month.", "It will employ around {num} people.",
                  "The company has {num}0 stores nationally."]),
                ("{B} reports subscriber figures",
                 ["{B} said it had added {num},000 mobile customers in the quarter.",
                  "Analyst {person} said growth was in line with forecasts."])],
    "negative": [("{B} criticised over roaming charges",
                  ["{B} customers have complained about unexpected roaming charges.",
                   "Consumer groups called the fees unfair.", "{B} said it would review the policy, according to {person}."]),
                 ("{B} network problems frustrate users in {town}",
                  ["Users in {town} say {B} calls drop several times a day.",
                   "Some reported the problem for {num} days without a fix.", "The company apologised."])],
}

# ------------------------------------------------------------------- noise

NOISE_SOCIAL = [
    "new phone arrived, setting it up all evening",
    "why does every app want notifications on",
    "#wfh coffee count: 4",
    "my smart kettle needs a firmware update. what year is it",
    "finally labelled all the cables behind the TV",
    "the office wifi is a mystery wrapped in a captive portal",
    "anyone else's laptop fan sound like a jet engine today",
    "replaced my mesh wifi batteries and it's like new",
    "password manager saved me again 🙂",
    "video call froze right as I said something important, classic",
    "reading about the spectrum auction over lunch",
    "powerline adapters: genius or witchcraft?",
    "bought a new router, now I have to pick a wifi name. hardest part",
    "the train wifi works today. historic",
]
NOISE_FORUM = [
    ("Best mesh wifi system for a three-storey house?",
     "Looking for recommendations, budget is flexible. Thick walls everywhere."),
    ("Laptop won't see my 5GHz network",
     "Other devices connect fine. Tried updating drivers, no luck so far."),
    ("Powerline adapters worth it?", "Garden office is too far for wifi. Anyone using these?"),
    ("How do you test latency properly?", "Ping to what, exactly? Curious how people measure this."),
    ("Cheap managed switch recommendations", "Need eight ports and VLAN support for a home lab."),
    ("Old phones as security cameras", "Has anyone done this well? Looking for app suggestions."),
    ("Wifi channel planning in a block of flats", "Forty networks visible from my sofa. Help."),
    ("Which NAS for photo backups?", "About 2TB of family photos. Want something quiet."),
    ("Ethernet through the loft: tips?", "Running cable to the spare room this weekend."),
    ("Router firmware auto-updates: on or off?", "Mine rebooted mid-match last night."),
    ("Is a UPS worth it for networking gear?", "Short power cuts keep resetting everything here."),
    ("Recommend a travel router", "Hotel wifi everywhere, want my own network."),
    ("Printer keeps dropping off the network", "Every few days it vanishes until I power cycle it."),
    ("DNS over HTTPS at home", "Worth setting up for the whole house or not?"),
    ("Best way to share files between phones and laptops", "Mixed brands at home, nothing talks to each other."),
]
NOISE_NEWS = [
    ("Regulator opens consultation on spectrum auction",
     ["The telecoms regulator has opened a consultation on the next spectrum auction.",
      "Operators have eight weeks to respond.", "A decision is expected early next year."]),
    ("Chip supply easing, says industry group",
     ["Lead times for networking chips have fallen for the third quarter in a row, according to an industry group.",
      "Router makers expect prices to stabilise."]),
    ("Council approves new cable ducts for the town centre",
     ["The council in {town} approved plans for shared cable ducts under the high street.",
      "Works are due to start in the autumn and will take four months."]),
    ("Smart home devices: five settings to change today",
     ["Most smart devices ship with settings that favour convenience over privacy.",
      "We walk through the five changes worth making first."]),
    ("Satellite internet service adds rural coverage",
     ["A satellite internet service has extended coverage to remote areas in the north.",
      "Prices remain high compared with fixed lines."]),
    ("Town of {town} gets public wifi in the park",
     ["Free public wifi is now live in the main park in {town}.",
      "The council says it covers the playground and cafe."]),
    ("Password managers: a beginner's guide",
     ["Reusing passwords is the most common security mistake.",
      "We explain how password managers work and how to pick one."]),
    ("Phone makers extend software support",
     ["Several phone makers now promise {num}0 months of security updates.",
      "Longer support could keep devices in use for longer."]),
    ("Data centre planned near {town}",
     ["Planning documents show a data centre proposed on the edge of {town}.",
      "Residents have until {day} to comment."]),
    ("Why your wifi is slower in the evening",
     ["Evening slowdowns are often caused by congestion, interference and old routers.",
      "Here is how to tell which one affects you."]),
]

# --------------------------------------------------- look-alike company (no match)

LOOKALIKE = [
    ("news", "Brightwaver Audio launches new noise-cancelling headphones",
     "Brightwaver Audio, the headphone maker, has launched its X2 model with longer battery life and a new case."),
    ("social", "",
     "my new Brightwaver headphones are amazing on the train 🎧 #brightwaver"),
    ("forum", "Brightwaver X2 firmware update bricked my left earbud",
     "Anyone else with a Brightwaver X2 seeing this? Support says a fix is coming."),
    ("social", "",
     "Brightwaver earbuds review: great bass, meh battery. solid 7/10"),
]

# ------------------------------------------------------ French and German

FOREIGN = {
    "fr": {
        "lead": ["{b} installé chez moi ce matin, la fibre est super rapide.",
                 "Quelqu'un sait si {b} couvre {townfr} ?",
                 "Encore une hausse de prix chez {b}, je ne suis pas content.",
                 "Le service client de {b} a été vraiment efficace aujourd'hui.",
                 "Débit correct avec {p} le soir, rien à redire.",
                 "Je viens de passer chez {b} pour la fibre.",
                 "Le technicien de {b} est venu à l'heure, bravo."],
        "more": ["Le routeur est simple à configurer.",
                 "On verra sur la durée.",
                 "Mes enfants regardent des vidéos sans coupure.",
                 "Le prix reste raisonnable pour la région.",
                 "Il faut attendre trois jours pour l'activation.",
                 "Je télétravaille deux jours par semaine."],
        "title": ["Avis sur {B} Fiber à {townfr} ?",
                  "Question sur la box {B}",
                  "{B} : votre expérience ?"],
        "news_title": ["{B} étend son réseau fibre à {townfr}",
                       "{B} arrive à {townfr}"],
        "news": ["{B} a annoncé l'extension de son réseau fibre à {townfr}.",
                 "Les premiers raccordements sont prévus pour l'automne.",
                 "Selon l'entreprise, environ {num} 000 foyers seront concernés.",
                 "Les habitants pourront s'inscrire dès la semaine prochaine."],
    },
    "de": {
        "lead": ["{b} hat heute den Glasfaseranschluss gelegt, alles lief reibungslos.",
                 "Weiß jemand, ob {b} schon in {townde} verfügbar ist?",
                 "Meine Rechnung von {b} ist schon wieder gestiegen, ärgerlich.",
                 "Der Kundenservice von {b} war heute wirklich freundlich.",
                 "Abends ist {p} manchmal etwas langsam, sonst bin ich zufrieden.",
                 "Wir sind letzte Woche zu {b} gewechselt.",
                 "Der Techniker von {b} kam pünktlich und war schnell fertig."],
        "more": ["Der Router lässt sich einfach einrichten.",
                 "Mal sehen, wie es langfristig läuft.",
                 "Unsere Kinder streamen ohne Unterbrechung.",
                 "Der Preis ist für unsere Gegend in Ordnung.",
                 "Laut Hotline dauert es drei Tage bis zur Freischaltung.",
                 "Ich arbeite zwei Tage pro Woche von zu Hause."],
        "title": ["Erfahrungen mit {B} Fiber in {townde}?",
                  "Frage zum Router von {B}",
                  "{B}: eure Meinung?"],
        "news_title": ["{B} baut Glasfasernetz in {townde} aus",
                       "{B} kommt nach {townde}"],
        "news": ["{B} hat angekündigt, sein Glasfasernetz in {townde} auszubauen.",
                 "Erste Anschlüsse sind für den Herbst geplant.",
                 "Laut Unternehmen sollen rund {num}.000 Haushalte profitieren.",
                 "Anmeldungen sind ab nächster Woche möglich."],
    },
}

# ------------------------------------------------------ attacker-style text

ATTACKS = [
    ("social", "",
     "@brightwave your new status page looks great <script>alert(1)</script> 🙂"),
    ("forum", "Brightwave router admin tip <img src=x onerror=alert(1)>",
     "Found a neat Brightwave router setting, paste this in the name field: "
     "<img src=x onerror=alert(1)> and reboot."),
    ("news", "Brightwave spring promotion announced",
     '<p>Brightwave is offering a free month to new customers.</p>'
     '<p><a href="javascript:alert(1)">Claim your free month</a></p>'),
    ("social", "",
     "Brightwave coupon code right here: javascript:alert(document.cookie) #brightwave"),
    ("forum", "\"><svg onload=alert(1)> Brightwave speed test results",
     "My Brightwave Fiber results: {n} Mbps down. "
     "<iframe src=\"javascript:alert('x')\"></iframe> Happy with it."),
]

# ------------------------------------------------------------------ builders


def item(feed, title, text, kind, brand, sentiment):
    return {"feed": feed, "title": title, "text": text, "_kind": kind,
            "_brand": brand, "_sent": sentiment}


def build_bw(feed, sent):
    if feed == "social":
        caps = 0.12 if sent == "negative" else 0.04
        text = social_post(pick(BW_SOCIAL[sent]), BW_SOCIAL_OPEN,
                           BW_SOCIAL_CLOSE[sent], caps=caps)
        return item(feed, "", text, "background", "brightwave", sent)
    if feed == "forum":
        title = fill(pick(BW_FORUM_TITLES[sent]), feed)
        body = [fill(pick(BW_FORUM_LEAD[sent]), feed)]
        body.append(fill(sentences(BW_FORUM_BODY[sent], rng.randint(1, 3)), feed))
        if chance(0.4) and sent == "negative":
            body.append(fill(pick(BW_FORUM_BODY["neutral"]), feed))
        return item(feed, title, " ".join(body), "background", "brightwave", sent)
    title, paras = pick(BW_NEWS[sent])
    paras = [fill(p, feed) for p in paras]
    return item(feed, fill(title, feed), htmlize(paras, "Brightwave"),
                "background", "brightwave", sent)


_burst_news = iter(BURST_NEWS)  # one story per burst news slot


def build_burst(feed):
    """A clearly negative outage complaint (see the note above BURST_OPEN)."""
    if feed == "news":
        title, paras = next(_burst_news)
        paras = [fill(p, feed) for p in paras]
        return item(feed, fill(title, feed), htmlize(paras, "Brightwave"),
                    "burst", "brightwave", "negative")
    parts = [fill(pick(BURST_OPEN), feed)]
    k = 2 if feed == "forum" else rng.randint(1, 2)
    complaints = sorted(rng.sample(BURST_COMPLAINT, k),
                        key=lambda c: " not " in c)
    # "support" is positive in VADER; outweigh it with a second emotion
    two = chance(0.3) or any("Support" in c for c in complaints)
    parts += rng.sample(BURST_EMOTION, 2 if two else 1)
    parts += [fill(c, feed) for c in complaints]
    text = " ".join(parts)
    if feed == "forum":
        return item(feed, fill(pick(BURST_FORUM_TITLES), feed), text, "burst",
                    "brightwave", "negative")
    text += fill(pick(BURST_TAGS), feed)
    if not BRAND_RE.search(text):  # e.g. only #BrightwaveDown
        text += " @brightwave"
    if chance(0.08):
        text = text.upper()
    return item(feed, "", text, "burst", "brightwave", "negative")


def build_nimbus(feed, sent):
    if feed == "social":
        text = social_post(pick(NIMBUS_SOCIAL[sent]), ["ok,", "honestly,", "fyi"],
                           NIMBUS_CLOSE, brand="nimbus", caps=0.04)
        return item(feed, "", text, "background", "nimbus", sent)
    if feed == "forum":
        title, pool = pick(NIMBUS_FORUM[sent])
        body = pool[:1] + rng.sample(pool[1:], rng.randint(1, 3))
        return item(feed, fill(title, feed, "nimbus"),
                    fill(" ".join(body), feed, "nimbus"),
                    "background", "nimbus", sent)
    title, paras = pick(NIMBUS_NEWS[sent])
    paras = [fill(p, feed, "nimbus") for p in paras]
    return item(feed, fill(title, feed, "nimbus"),
                htmlize(paras, "Nimbus Mobile"), "background", "nimbus", sent)


def build_noise(feed):
    if feed == "social":
        text = pick(NOISE_SOCIAL) + pick(["", "", " 🙃", " #tech", " lol"])
        return item(feed, "", text, "noise", "none", "neutral")
    if feed == "forum":
        title, body = pick(NOISE_FORUM)
        return item(feed, title, body, "noise", "none", "neutral")
    title, paras = pick(NOISE_NEWS)
    return item(feed, title, htmlize([fill(p, feed) for p in paras], "wifi"),
                "noise", "none", "neutral")


def build_foreign(feed, lang):
    pools = FOREIGN[lang]
    if feed == "news":
        paras = [fill(p, feed) for p in pools["news"][:1] +
                 rng.sample(pools["news"][1:], 2)]
        return item(feed, fill(pick(pools["news_title"]), feed),
                    htmlize(paras, "Brightwave"), "foreign", "brightwave", lang)
    body = [fill(pick(pools["lead"]), feed)]
    body += rng.sample(pools["more"], rng.randint(1, 2))
    title = "" if feed == "social" else fill(pick(pools["title"]), feed)
    return item(feed, title, " ".join(body), "foreign", "brightwave", lang)


def feed_choice():
    r, acc = rng.random(), 0.0
    for feed, w in FEED_WEIGHTS.items():
        acc += w
        if r < acc:
            return feed
    return "social"


def unique(builder, seen, *args):
    """Call builder until it yields a text not seen before."""
    for _ in range(200):
        _sticky.clear()
        it = builder(*args)
        key = it["text"]
        if key not in seen:
            seen.add(key)
            return it
    raise RuntimeError(f"template pool too small for {builder.__name__}{args}")

# ------------------------------------------------------- time and engagement


def background_offset():
    """Minutes before now, shaped by hour of day and weekday (rejection sampling)."""
    while True:
        off = rng.randint(BURST_MIN + 1, DAYS * 1440 - 1)
        t = NOTIONAL_NOW - datetime.timedelta(minutes=off)
        w = HOUR_WEIGHT[t.hour] * (WEEKEND_WEIGHT if t.weekday() >= 5 else 1.0)
        if rng.random() < w:
            return off


def burst_offset():
    # outage began ~3h ago; complaints keep building until ~25 min ago
    return int(rng.triangular(1, BURST_MIN - 2, 25))


def followers_for(feed, kind):
    if feed == "news":
        mu, sigma, cap = 9.6, 0.9, 150_000
    elif feed == "forum":
        mu, sigma, cap = 4.0, 1.3, 12_000
    else:
        mu, sigma, cap = 5.6, 1.7, 150_000
    if kind == "burst" and feed == "social":
        cap = 4_900  # the few big accounts are placed explicitly
    return max(10, min(cap, int(rng.lognormvariate(mu, sigma))))


def engagement(it):
    f = it["followers"]
    rate = rng.lognormvariate(math.log(0.012), 0.8)
    if it["_kind"] == "burst":
        rate *= 3.5
    if it["feed"] == "forum":
        rate *= 2.0  # forum "likes" are upvotes from the thread, not followers
    likes = int(f * rate + rng.expovariate(0.4))
    share_rate = 0.35 if it["_kind"] == "burst" else rng.uniform(0.04, 0.2)
    shares = int(likes * share_rate * rng.uniform(0.6, 1.4))
    comments = int(likes * rng.uniform(0.05, 0.4) + rng.random() * 3)
    if it["feed"] == "forum":
        comments += rng.randint(0, 25)  # replies in the thread
    return likes, shares, comments


def slugify(s, limit=48):
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return s[:limit].rstrip("-") or "post"

# -------------------------------------------------------------------- main


def build_items():
    seen = set()
    items = []
    # Brightwave background (English)
    for sent, n in N_BW_EN.items():
        for _ in range(n):
            items.append(unique(build_bw, seen, feed_choice(), sent))
    # Brightwave in French / German
    for i in range(N_BW_FOREIGN):
        feed = pick(["social"] * 10 + ["forum"] * 7 + ["news"] * 3)
        items.append(unique(build_foreign, seen, feed, "fr" if i % 2 else "de"))
    # attacker-style items
    for feed, title, text in ATTACKS:
        _sticky.clear()
        items.append(item(feed, title, fill(text, feed), "attack",
                          "brightwave", "neutral"))
    # competitor
    for sent, n in N_NIMBUS.items():
        for _ in range(n):
            items.append(unique(build_nimbus, seen, feed_choice(), sent))
    # noise and look-alikes
    for _ in range(N_NOISE):
        items.append(unique(build_noise, seen, feed_choice()))
    for feed, title, text in LOOKALIKE:
        items.append(item(feed, title, text, "lookalike", "none", "neutral"))

    for it in items:
        it["offset_min"] = background_offset()
        it["author"] = author_for(it["feed"])
        it["followers"] = followers_for(it["feed"], it["_kind"])
    # spread the attacker-style items out, one every ~2.6 days
    for k, it in enumerate(x for x in items if x["_kind"] == "attack"):
        it["offset_min"] = int(1440 * (1.5 + 2.6 * k)) + rng.randint(-200, 200)

    # the burst
    feeds = BURST_FEEDS[1:]  # one social slot is taken by BURST_TOP
    rng.shuffle(feeds)
    burst = [unique(build_burst, seen, f) for f in feeds]
    for it in burst:
        it["offset_min"] = burst_offset()
        it["author"] = author_for(it["feed"])
        it["followers"] = followers_for(it["feed"], "burst")
    top = item("social", "", BURST_TOP["text"], "burst", "brightwave", "negative")
    top.update(offset_min=95, author=BURST_TOP["author"],
               followers=BURST_TOP["followers"])
    burst.append(top)
    big = [b for b in burst if b["feed"] == "social" and b is not top][:5]
    for b, f in zip(big, [19_400, 12_800, 8_650, 6_300, 5_120]):
        b["followers"] = f
    items += burst

    for it in items:
        it["likes"], it["shares"], it["comments"] = engagement(it)
    for b in big:  # widely shared complaints from big accounts
        b["likes"] = int(b["followers"] * rng.uniform(0.03, 0.08))
        b["shares"] = int(b["likes"] * rng.uniform(0.4, 0.7))
        b["comments"] = int(b["likes"] * rng.uniform(0.1, 0.25))
    top["likes"], top["shares"], top["comments"] = 5_870, 2_340, 712
    return items


def check(items):
    links = [it["link"] for it in items]
    assert len(set(links)) == len(links), "links must be unique"
    for it in items:
        blob = it["title"] + " " + it["text"]
        if it["_brand"] == "brightwave":
            assert BRAND_RE.search(blob), blob
            assert not NIMBUS_RE.search(blob), blob
        elif it["_brand"] == "nimbus":
            assert NIMBUS_RE.search(blob) and not BRAND_RE.search(blob), blob
        else:
            assert not BRAND_RE.search(blob) and not NIMBUS_RE.search(blob), blob
        in_burst = 0 <= it["offset_min"] <= BURST_MIN
        assert in_burst == (it["_kind"] == "burst"), it
        assert 0 <= it["offset_min"] < DAYS * 1440
    assert sum(it["_kind"] == "burst" for it in items) == len(BURST_FEEDS)


def main():
    items = build_items()
    items.sort(key=lambda it: (it["offset_min"], it["feed"], it["text"]))
    for i, it in enumerate(items, 1):
        it["link"] = f"/posts/{slugify(it['title'] or it['text'])}-{i:04d}"
    check(items)

    keys = ["feed", "offset_min", "author", "title", "text", "likes", "shares",
            "comments", "followers", "link"]
    with OUT.open("w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps({k: it[k] for k in keys}, ensure_ascii=False) + "\n")

    feeds = Counter(it["feed"] for it in items)
    brands = Counter(it["_brand"] for it in items)
    kinds = Counter(it["_kind"] for it in items)
    burst = [it for it in items if it["_kind"] == "burst"]
    print(f"wrote {len(items)} items to {OUT}")
    print("feeds:  " + ", ".join(f"{k}={feeds[k]}" for k in ("news", "forum", "social")))
    print(f"brands: brightwave={brands['brightwave']}, nimbus={brands['nimbus']}, "
          f"neither={brands['none']} (look-alike {kinds['lookalike']})")
    print(f"extras: foreign={kinds['foreign']}, attack={kinds['attack']}")
    print(f"burst:  {len(burst)} items in the last {BURST_MIN} min "
          f"({Counter(it['feed'] for it in burst)['social']} social), "
          f"max followers {max(it['followers'] for it in burst)}")


if __name__ == "__main__":
    main()
