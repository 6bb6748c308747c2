"""Generate the Segment Studio demo file: 2,000 synthetic e-commerce customers.

Run ``python assets/make_demo_data.py`` to (re)write ``assets/demo_customers.csv``.
The output is byte-identical on every run: all randomness comes from one
``numpy.random.default_rng(seed)`` and the CSV is rendered with fixed options.

Six hidden personas drive both the structured columns and the themes of the
free-text ``review`` column; they are *not* a column of the file (the app must
discover them) but :func:`generate` returns them so tests can check that the
structure is recoverable.

Everything here is fictional: names are drawn from built-in lists, e-mail
addresses use the reserved ``example.com/.org/.net`` domains and phone numbers
use the Ofcom ranges set aside for drama (07700 900xxx, 020 7946 0xxx).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
N_CUSTOMERS = 2000
OUTPUT = Path(__file__).resolve().parent / "demo_customers.csv"
REFERENCE_DATE = dt.date(2025, 12, 1)
"""'Today' for the data set: recency and tenure are measured from here."""

PERSONAS = ("loyal", "bargain", "new", "unhappy", "lapsed", "app_first")
PERSONA_SHARES = (0.17, 0.20, 0.15, 0.15, 0.17, 0.16)
MIXED_SHARE = 0.15
"""Share of reviews with one sentence borrowed from another persona."""
GENERIC_SHARE = 0.15
"""Chance that a non-first sentence is persona-neutral filler."""

COLUMNS = (
    "customer_id",
    "full_name",
    "email",
    "signup_date",
    "age",
    "annual_income",
    "region",
    "channel",
    "orders",
    "total_spend",
    "days_since_last_order",
    "avg_basket",
    "returns_share",
    "newsletter",
    "review",
)

# --------------------------------------------------------------------------- names

FIRST_NAMES = tuple(
    """
    Anna James Olivia Mohammed Emily Oliver Sophie Harry Amelia Jack Isla George Chloe Noah Grace Leo
    Ava Arjun Mia Thomas Zara Daniel Hannah Liam Priya Samuel Ella Joseph Freya Ethan Lucy Kwame Ruby
    Ben Aisha Lewis Niamh Callum Fatima Owen Megan Rhys Eilidh Ciaran Katie Tomasz Agnieszka Marco
    Elena David Sarah Michael Laura Paul Helen Andrew Rachel Mark Claire Peter Susan Ravi Yusuf Chen
    Mei Kofi Ines Lukas Sana Rory
    """.split()
)
LAST_NAMES = tuple(
    """
    Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker
    White Roberts Green Hall Wood Jackson Clarke Khan Hughes Edwards Lewis Harris Martin Cooper King
    Lee Baker Morgan Campbell Stewart MacDonald Murray Kelly Byrne Murphy Reid Kowalski Nowak Rossi
    Garcia Silva Okafor Mensah Ahmed Hussain Singh Shah Begum Ali Nguyen Wang Kim Fischer Novak Doherty
    Price Bennett Turner Parker Collins Ward Fraser Ellis Barnes Owen Lloyd
    """.split()
)
EMAIL_DOMAINS = ("example.com", "example.com", "example.com", "example.org", "example.net")

# ------------------------------------------------------------------ structured values

REGIONS = (
    "London", "South East", "South West", "East of England", "Midlands",
    "North West", "North East", "Yorkshire", "Scotland", "Wales", "Northern Ireland",
)
REGION_WEIGHTS = np.array([0.15, 0.14, 0.09, 0.10, 0.16, 0.11, 0.04, 0.08, 0.08, 0.03, 0.02])
CHANNELS = ("web", "app", "store", "marketplace")

# Per persona: parameters of the structured columns (see _structured).
PROFILE = {
    #            channel probs (web, app, store, marketplace)
    "loyal":     dict(channel=(0.45, 0.20, 0.30, 0.05), age=(47, 11), income=(62000, 0.35),
                      signup=("2019-01-01", "2023-06-30"), orders=24, basket=(82, 0.40),
                      recency=18, returns=(1.0, 24.0), newsletter=0.70),
    "bargain":   dict(channel=(0.38, 0.15, 0.10, 0.37), age=(43, 12), income=(33000, 0.38),
                      signup=("2019-01-01", "2025-06-30"), orders=14, basket=(24, 0.35),
                      recency=35, returns=(2.0, 18.0), newsletter=0.82),
    "new":       dict(channel=(0.50, 0.20, 0.20, 0.10), age=(35, 12), income=(40000, 0.38),
                      signup=("2025-07-15", "2025-11-28"), orders=2, basket=(48, 0.45),
                      recency=20, returns=(1.0, 14.0), newsletter=0.50),
    "unhappy":   dict(channel=(0.40, 0.15, 0.10, 0.35), age=(42, 14), income=(41000, 0.38),
                      signup=("2020-01-01", "2025-04-30"), orders=6, basket=(52, 0.45),
                      recency=130, returns=(6.0, 10.0), newsletter=0.22),
    "lapsed":    dict(channel=(0.40, 0.05, 0.45, 0.10), age=(53, 13), income=(38000, 0.38),
                      signup=("2019-01-01", "2023-03-31"), orders=3, basket=(42, 0.45),
                      recency=420, returns=(1.5, 14.0), newsletter=0.30),
    "app_first": dict(channel=(0.12, 0.78, 0.05, 0.05), age=(25, 5), income=(29000, 0.38),
                      signup=("2022-01-01", "2025-09-30"), orders=8, basket=(40, 0.35),
                      recency=22, returns=(2.0, 16.0), newsletter=0.35),
}

# ---------------------------------------------------------------------- text slots

SLOTS: dict[str, tuple[str, ...]] = {
    "product": (
        "pair of trainers", "pair of running shoes", "rain jacket", "winter coat", "hoodie", "pair of jeans",
        "linen shirt", "backpack", "desk lamp", "coffee grinder", "kettle", "bedding set", "duvet cover",
        "bath towel set", "yoga mat", "water bottle", "pair of headphones", "phone case", "charging cable",
        "smart speaker", "blender", "frying pan", "knife set", "plant pot", "garden hose", "set of kids' pyjamas",
        "pair of school shoes", "wool jumper", "pair of sunglasses", "wallet", "watch strap", "board game",
        "scented candle", "cushion cover", "rug", "air fryer", "toaster", "set of bike lights", "mixing bowl set",
        "pair of ankle boots", "summer dress", "pair of gym leggings", "laptop sleeve", "wireless mouse",
        "cookware set", "baby carrier",
    ),
    "category": (
        "homeware", "kitchen gear", "kids' clothes", "sportswear", "electronics", "footwear",
        "bedding", "garden tools", "outdoor kit", "accessories", "office supplies", "beauty products",
    ),
    "quality": ("excellent", "superb", "really well made", "lovely", "top notch", "solid", "beautiful"),
    "speed": ("the next day", "within 24 hours", "a day early", "before 9am", "super quickly", "on time"),
    "courier": ("DPD", "Royal Mail", "Evri", "DHL", "Yodel", "the courier"),
    "competitor": ("Amazon", "Argos", "John Lewis", "Currys", "a rival site", "the shop down the road"),
    "relation": (
        "sister", "brother", "mum", "dad", "partner", "neighbour", "colleague", "best friend", "son", "daughter",
    ),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "duration": ("two weeks", "a month", "three days", "six weeks", "one wash", "a fortnight", "ten days"),
    "years": ("three", "four", "five", "six", "several", "many"),
    "hours": ("18", "20", "24", "36"),
    "pct": ("10", "15", "20", "25", "30", "40", "50"),
    "price": ("3", "5", "6", "8", "10", "12", "15", "20"),
    "code": ("SAVE10", "WELCOME15", "SPRING20", "FREESHIP", "VIP25", "FLASH30"),
    "days": ("four", "five", "six", "eight", "ten", "twelve", "fourteen"),
    "weeks": ("two", "three", "four", "five", "six"),
    "minutes": ("25", "40", "45", "50", "60", "90"),
    "time": ("10pm", "11pm", "midnight", "9pm", "late evening"),
    "place": ("Glasgow", "Cardiff", "Belfast", "Leeds", "Bristol", "Norwich", "the Highlands", "Cornwall"),
    "occasion": ("birthday", "wedding", "house move", "Christmas present", "school trip", "camping weekend"),
    "phone": ("iPhone", "Android phone", "Pixel", "Samsung", "old iPhone", "tablet"),
    "version": ("4.2", "5.0", "5.1", "5.3", "6.0"),
    "feeling": ("fine", "okay", "alright", "decent", "average", "not bad"),
}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "loyal": (
        "Ordered the {product} on {weekday} and it arrived {speed}, brilliant as always.",
        "I've been shopping here for {years} years and the quality never drops.",
        "The {product} is {quality}, exactly as described and beautifully packaged.",
        "Fast delivery again, {courier} had it at my door within {hours} hours.",
        "Really impressed with the build quality of the {product}.",
        "This is my go-to shop for {category}, never had a bad experience.",
        "Happy to pay a bit more for this level of quality and service.",
        "Recommended you to my {relation} and they love their {product} too.",
        "Second {product} I've bought from you and it is just as {quality} as the first.",
        "Delivery was quick and the driver was really polite.",
        "Premium feel, great materials, and it arrived {speed}.",
        "Consistently excellent service, keep doing what you're doing.",
        "The {product} has survived {duration} of daily use and still looks new.",
        "Five stars for the {product}, the finish is {quality}.",
        "Loyalty points paid for most of my latest {product}, a lovely bonus.",
        "Everything I order turns up {speed} and well packed.",
        "Your team sorted a size swap in minutes, very professional.",
        "I keep coming back because the quality is so reliable.",
        "Bought a {product} as a gift for my {relation}, they were delighted.",
        "The new {category} range is {quality}, I have already ordered three things.",
        "Top quality {product}, worth every penny.",
        "Next day delivery has never let me down.",
        "Gorgeous {product}, feels sturdy and {quality}.",
        "As a long-time customer I just wanted to say thank you.",
        "Ordered at {time} and it was here {speed}, superb.",
        "The premium {product} outperforms anything I have had from other shops.",
        "Great quality as usual, my {relation} already asked where I got the {product}.",
        "Always {quality} products and quick dispatch, I order almost every week.",
    ),
    "bargain": (
        "Waited for the sale and got the {product} for {pct}% off, great deal.",
        "Is there a discount code for returning customers this month?",
        "The coupon {code} didn't apply at checkout, can you check?",
        "Do you price match? {competitor} sells the same {product} for £{price} less.",
        "Only bought because of the {pct}% voucher, the full price is too high.",
        "Free delivery threshold is too high, I had to add a {product} to reach it.",
        "Love the clearance section, picked up a {product} for next to nothing.",
        "Please send more promo codes, I always wait for the deals.",
        "Good value for money and cheaper than {competitor}.",
        "The Black Friday prices were fantastic, stocked up on {category}.",
        "Any chance of a student discount or a bundle offer on {category}?",
        "Price dropped by £{price} two days after I bought the {product}, can I get the difference back?",
        "The multibuy offer on {category} is the best I have found.",
        "Signed up to the newsletter just for the {pct}% off code.",
        "Cheap and cheerful {product}, does the job for the price.",
        "Compared prices everywhere and you were the cheapest for the {product}.",
        "Would buy more if discounts stacked with loyalty points.",
        "Grabbed the {product} in the flash sale, a real bargain.",
        "When is the next sale? I have a {product} in my basket waiting for a price drop.",
        "The voucher expired before I could use it, can you reissue it?",
        "Decent {product} considering it was half price.",
        "The outlet deals on {category} are unbeatable.",
        "Please bring back the buy one get one free offer.",
        "Saved £{price} with the {code} coupon, very happy.",
        "Shipping costs ate up most of the discount, a bit disappointing.",
        "Cashback offer worked perfectly on my {product} order.",
        "Set a price alert for the {product} and bought it as soon as it dropped.",
        "Your prices are fair but I only buy during promotions.",
    ),
    "new": (
        "Just placed my first order, how do I track it?",
        "New customer here, where can I see my order status?",
        "How long does standard delivery usually take to {place}?",
        "I created an account yesterday, how do I change my delivery address?",
        "First time ordering, the {product} looks great so far.",
        "Can I change the size on my first order before it ships?",
        "Where do I find the tracking number for my first order?",
        "Do I need an account to return an item, or can I check out as a guest?",
        "Is it possible to add a gift note to my order for my {relation}?",
        "Got the welcome email, but the discount code isn't showing in my account.",
        "How do I set a password? I signed up with my email only.",
        "Which payment methods do you accept, is PayPal available?",
        "My first parcel arrived {speed}, very smooth experience.",
        "Just discovered your shop through my {relation}, first impressions are good.",
        "Can you confirm my order went through? I did not get a confirmation email.",
        "How does the returns process work if the {product} doesn't fit?",
        "What does dispatched mean, is it already with {courier}?",
        "Trying you out for the first time with a {product}.",
        "Can I collect my order from a store instead of home delivery?",
        "How do I update the phone number on my new account?",
        "Still learning how the website works, but ordering was easy.",
        "Is there a size guide for the {product}?",
        "Do you deliver on weekends? I am out at work during the week.",
        "I'm new here, do you have a loyalty scheme?",
        "The welcome emails explaining how everything works were helpful.",
        "When will I be charged, when I order or when it ships?",
        "First order placed on {weekday}, looking forward to the {product} arriving.",
    ),
    "unhappy": (
        "My {product} arrived {days} days late and nobody told me why.",
        "The box was crushed and the {product} inside was damaged.",
        "Still waiting for my refund after {weeks} weeks, this is unacceptable.",
        "I returned the {product} on {weekday} and have heard nothing since.",
        "Tracking said delivered but nothing arrived.",
        "Third time an order has been delayed, I am losing patience.",
        "The {product} broke after {duration}, really poor quality.",
        "Customer service keeps sending copy-paste replies instead of fixing the problem.",
        "I want a full refund, not store credit.",
        "Received the wrong size, I ordered the {product} in a medium and got a small.",
        "{courier} left my parcel in the rain and the {product} was soaked.",
        "Very disappointed, the {product} looks nothing like the photos.",
        "I've been on hold for {minutes} minutes trying to reach support.",
        "Item missing from my order and the refund form keeps failing.",
        "Had to return the {product} twice because of defects.",
        "Your delivery promise is meaningless, it took {days} days.",
        "The replacement {product} arrived damaged as well.",
        "Please escalate my complaint, my order is still not resolved.",
        "Charged twice for the same order and no refund yet.",
        "Terrible experience, I will not order again.",
        "The {product} was scratched and dented straight out of the box.",
        "Returns label never arrived so I paid the postage myself.",
        "Waited in all day for a delivery that never came.",
        "The quality has gone downhill, my last {product} fell apart.",
        "Where is my refund? It has been {weeks} weeks.",
        "My complaint was ignored again, very poor customer service.",
        "Parcel lost by {courier} and you just blame them.",
        "Faulty {product}, it stopped working after {duration}.",
    ),
    "lapsed": (
        "Haven't ordered in a while, nothing wrong, just haven't needed anything.",
        "It was {feeling}, the {product} did the job.",
        "Bought a {product} a couple of years ago, it was {feeling}.",
        "Please reduce the number of emails, I only shop occasionally.",
        "I moved house and forgot about this account.",
        "Average experience, nothing special either way.",
        "I might come back if you stock more {category}.",
        "Honestly can't remember much about my last order, so it must have been {feeling}.",
        "Please unsubscribe me from marketing messages.",
        "The {product} was {feeling}, a bit ordinary.",
        "I mostly shop elsewhere now, but no complaints.",
        "Ordered once for a {occasion}, have not needed anything since.",
        "Service was {feeling} back when I used it.",
        "Is my account still active? I have not logged in for ages.",
        "Not much to say, it arrived and it was as described.",
        "Used to order more often, life got busy.",
        "Reasonable shop, just not somewhere I think of first.",
        "Delete my old saved card please, I don't use the account any more.",
        "Fine for the odd purchase, nothing more.",
        "The {product} is still in the cupboard, barely used.",
        "Okay products, okay prices, okay delivery.",
        "My {relation} set up this account for me years ago.",
        "Can't really comment, it has been a long time since I ordered.",
        "Neither good nor bad, it was just a normal order.",
        "Will probably order again at some point, no rush.",
        "Last thing I bought was a {product}, it was {feeling}.",
    ),
    "app_first": (
        "The app keeps crashing at checkout on my {phone}.",
        "Love ordering through the app, so much faster than the website.",
        "Push notifications for new drops are great but there are far too many.",
        "Please add dark mode to the app.",
        "Apple Pay failed twice in the app before it finally went through.",
        "The new app update logged me out and wiped my basket.",
        "Scanning barcodes in store with the app is really handy.",
        "Can you add a wishlist widget? I open the app every day.",
        "Checkout button froze after the latest update on my {phone}.",
        "Got a notification about the {product} restock and bought it in seconds.",
        "The app search is rubbish, searching for a {product} shows random stuff.",
        "Saved my card in the app but it asks for it again every time.",
        "Live tracking in the app is cool, I watched the driver on the map.",
        "Ordered a {product} from the app on the bus, so easy.",
        "The app is slow on my {phone}, takes ages to load images.",
        "Love the app exclusive drops, got the {product} before it sold out.",
        "Face ID login stopped working after the {version} update.",
        "The promo code field disappears in the app when I rotate my {phone}.",
        "The app photos of the {product} are way better than the website.",
        "Notifications arrive hours after the flash sale has ended.",
        "Please let me pay with Klarna in the app.",
        "The in-app chat helped me sort my order quickly.",
        "Bug report: the size selector resets when I open the app from a notification.",
        "App works great on my {phone} but my mate's one keeps crashing.",
        "Ordering through the app takes me about a minute, perfect.",
        "Would be nice to share my basket from the app with friends.",
        "The app rewards streak is fun and keeps me coming back.",
        "Version {version} of the app fixed the checkout bug, thanks.",
    ),
}

GENERIC = (
    "Overall it was {feeling}.",
    "The {product} fits well.",
    "Would like more colours of the {product}.",
    "Packaging could use less plastic.",
    "The website is easy enough to use.",
    "Delivery was {feeling} this time.",
    "I also bought a {product} for my {relation}.",
    "Not sure what else to add.",
)
OPENERS = ("Hi.", "Hello.", "Hi team.", "Quick one.", "Hello there.", "Morning.", "Hi there!")
CLOSERS = ("Thanks.", "Cheers.", "Thanks in advance.", "Regards, {first}.", "Thank you.", "Many thanks, {first}.")
PII_SENTENCES = (
    "You can reach me at {email} if needed.",
    "Please reply to {email} rather than my old address.",
    "Call me on {mobile} if that is easier.",
    "My number is {mobile}, text is fine.",
    "Ring me on {landline} during the day.",
    "Contact me at {email} or on {mobile}.",
)

_SLOT = re.compile(r"\{(\w+)\}")

# ------------------------------------------------------------------------ generation


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _fill(rng: np.random.Generator, template: str, extra: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        return extra[name] if name in extra else _pick(rng, SLOTS[name])

    return _SLOT.sub(repl, template)


def _review(rng: np.random.Generator, persona: str, first: str, email: str) -> str:
    """Compose one review of 10-60 words, themed by ``persona`` with some noise."""
    others = [p for p in PERSONAS if p != persona]
    extra = {
        "first": first,
        "email": email,
        "mobile": f"07700 900{int(rng.integers(1000)):03d}",
        "landline": f"020 7946 0{int(rng.integers(1000)):03d}",
    }
    n_sentences = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.45, 0.30, 0.10]))
    # ~13% of texts are mixed: one of their sentences comes from another persona.
    mixed_at = int(rng.integers(n_sentences)) if rng.random() < MIXED_SHARE else -1
    used: set[int] = set()
    sentences: list[str] = []
    for i in range(n_sentences):
        if i == mixed_at:
            pool = TEMPLATES[_pick(rng, others)]
            sentences.append(_fill(rng, _pick(rng, pool), extra))
            continue
        if i > 0 and rng.random() < GENERIC_SHARE:
            sentences.append(_fill(rng, _pick(rng, GENERIC), extra))
            continue
        pool = TEMPLATES[persona]
        k = int(rng.integers(len(pool)))
        while k in used:
            k = int(rng.integers(len(pool)))
        used.add(k)
        sentences.append(_fill(rng, pool[k], extra))
    while len(" ".join(sentences).split()) < 10:
        sentences.append(_fill(rng, _pick(rng, GENERIC), extra))
    if rng.random() < 0.03:
        sentences.insert(int(rng.integers(1, len(sentences) + 1)), _fill(rng, _pick(rng, PII_SENTENCES), extra))
    if rng.random() < 0.12:
        sentences.append(_fill(rng, _pick(rng, CLOSERS), extra))
    text = " ".join(sentences)
    if rng.random() < 0.10:
        text = f"{_pick(rng, OPENERS)} {text}"
    words = text.split()
    if len(words) > 60:
        text = " ".join(words[:60]).rstrip(",;:") + "."
    style = rng.random()
    if style < 0.05:
        text = text.lower()
    elif style < 0.08:
        text = text.rstrip(".")
    return text


def _email(rng: np.random.Generator, first: str, last: str, taken: set[str]) -> str:
    f, s = first.lower(), last.lower()
    style = int(rng.integers(5))
    local = (
        f"{f}.{s}{int(rng.integers(1, 100))}",
        f"{f}.{s}",
        f"{f[0]}.{s}",
        f"{f}{s}{int(rng.integers(70, 100)) if rng.random() < 0.5 else int(rng.integers(0, 10))}",
        f"{f}_{s[0]}{int(rng.integers(1, 1000))}",
    )[style]
    address = f"{local}@{_pick(rng, EMAIL_DOMAINS)}"
    while address in taken:
        address = f"{local}{int(rng.integers(1, 1000))}@{_pick(rng, EMAIL_DOMAINS)}"
    taken.add(address)
    return address


def _date_between(rng: np.random.Generator, start: str, end: str) -> dt.date:
    lo, hi = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return lo + dt.timedelta(days=int(rng.integers((hi - lo).days + 1)))


def _structured(rng: np.random.Generator, persona: str) -> dict[str, object]:
    p = PROFILE[persona]
    signup = _date_between(rng, *p["signup"])
    tenure = (REFERENCE_DATE - signup).days
    age = int(np.clip(round(rng.normal(*p["age"])), 18, 80))
    median, sigma = p["income"]
    income = int(round(median * rng.lognormal(0.0, sigma) * (1 + (age - 40) * 0.006), -2))
    income = max(income, 8000)
    orders = 1 + int(rng.negative_binomial(3, 3 / (3 + p["orders"] - 1)))
    if persona == "new":
        orders = 1 + int(rng.poisson(0.8))
    basket_median, basket_sigma = p["basket"]
    basket = basket_median * rng.lognormal(0.0, basket_sigma)
    # Each order varies around the customer's typical basket.
    total = float(np.sum(basket * rng.lognormal(-0.02, 0.2, size=orders)))
    if persona == "new":
        recency = int(rng.integers(0, tenure + 1))
    elif persona == "lapsed":
        recency = int(min(tenure, 180 + rng.gamma(2.0, p["recency"] / 2.0 - 90)))
    else:
        recency = int(min(tenure, rng.exponential(p["recency"])))
    rate = rng.beta(*p["returns"])
    returns = int(rng.binomial(orders, rate))
    return {
        "signup_date": signup.isoformat(),
        "age": age,
        "annual_income": income,
        "region": REGIONS[int(rng.choice(len(REGIONS), p=REGION_WEIGHTS))],
        "channel": CHANNELS[int(rng.choice(len(CHANNELS), p=p["channel"]))],
        "orders": orders,
        "total_spend": round(total, 2),
        "days_since_last_order": recency,
        "avg_basket": round(total / orders, 2),
        "returns_share": round(returns / orders, 2),
        "newsletter": "yes" if rng.random() < p["newsletter"] else "no",
    }


def generate(seed: int = SEED, n: int = N_CUSTOMERS) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the demo table and the hidden persona label (index into PERSONAS) of each row."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(PERSONAS), size=n, p=PERSONA_SHARES)
    ids = np.sort(rng.choice(np.arange(1, 60000), size=n, replace=False))
    taken: set[str] = set()
    rows = []
    for cid, label in zip(ids, labels):
        persona = PERSONAS[int(label)]
        first, last = _pick(rng, FIRST_NAMES), _pick(rng, LAST_NAMES)
        email = _email(rng, first, last, taken)
        row = {"customer_id": f"C{int(cid):05d}", "full_name": f"{first} {last}", "email": email}
        row.update(_structured(rng, persona))
        row["review"] = _review(rng, persona, first, email)
        rows.append(row)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    # A few gaps for the data-quality report.
    income = df["annual_income"].astype("Int64")
    income[rng.random(n) < 0.02] = pd.NA
    df["annual_income"] = income
    df.loc[rng.random(n) < 0.01, "review"] = ""
    return df, labels.astype(np.int64)


def render_csv(df: pd.DataFrame) -> str:
    """The CSV text exactly as written to disk (UTF-8, '\\n' line endings)."""
    buffer = io.StringIO()
    df.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else OUTPUT
    df, _ = generate()
    path.write_bytes(render_csv(df).encode("utf-8"))
    print(f"wrote {len(df)} customers to {path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
