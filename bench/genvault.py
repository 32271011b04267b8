"""Write a deterministic synthetic vault of realistic customer files for the benchmark.

Usage: python bench/genvault.py --count 10000 --seed 1 --out /tmp/bench-vaults/10k

The same count and seed always give the same bytes. Files are 2-4 KB: varied fields,
year-less and Feb 29 birthdays, logs of 5-30 entries, subfolders, some non-ASCII, and a
few front matters in YAML forms outside the loader's fast path.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

TODAY = date(2026, 11, 23)  # the benchmark's --today; logs end around it

FIRST = (
    "Ana Bella Chloé David Emma Fatima Grace Henrik Julia Li Lucas Marcus Mia Noah Olivia Priya "
    "Ravi Søren Tom Zoë Amélie Björn Çağla Dmitri Élodie François Günter Håkon Ines Jürgen Kenji "
    "Łucja Mateo Nikolaj Oğuz Paulina Quentin Renée Saoirse Tomás Ulrike Valentina Wojciech "
    "Xavier Yara Zeynep"
).split()
LAST = (
    "García Rossi Dubois Cohen Wilson Haddad Okafor Larsen Santos Wei Silva O'Neill Johansson "
    "Kim Brown Raman Patel Kristensen Becker Müller Nowak Fernández Lefèvre Schröder Øster "
    "Yılmaz Kowalczyk Novák Horváth Ivanova Nakamura Murphy Andersson Costa Moreau Weber"
).split()
COMPANIES = ("Brightside Dental", "Nordlicht GmbH", "Café Olé", "Acme Corp", "Studio 54 Design")
TAGS = ("vip", "regular", "new", "colour", "cuts", "wedding", "corporate", "student", "family")
SEGMENTS = ("retail", "corporate", "walk-in", "online")
LIKES = (
    "balayage", "oat latte", "espresso", "talking about her garden", "jazz", "quiet sessions",
    "English breakfast tea", "undercuts", "updos", "peppermint tea", "football", "crime novels",
    "sailing", "short pixie cuts", "matcha", "flat white", "dogs", "hiking in the Alps",
)  # fmt: skip
KINDS = (
    "visit",
    "visit",
    "visit",
    "call",
    "email",
    "text",
    "note",
    "offer",
    "meeting",
    "question",
    "reward",
)
TEXTS = (
    "cut and gloss; wants to go lighter for winter",
    "balayage refresh, very happy",
    "booked the next appointment for early next month",
    "asked about a gift voucher for her sister",
    "sent the autumn offer with 10% off treatments",
    "trim, talked about the new café around the corner",
    "colour correction after a home dye accident; patch test first",
    "follow-up on the product recommendation (argan oil)",
    "rescheduled because of a cold",
    "brought cake for the team — très gentil",
)
CITIES = ("Berlin", "Lyon", "Edinburgh", "Sevilla", "København", "Zürich")
COUNTRIES = ("Germany", "France", "UK", "Spain", "Denmark", "Switzerland")
STREETS = ("Lindenstraße", "Rue de la Paix", "Main Street", "Calle Mayor", "Kongens Nytorv")
BODY = (
    "Always books the window seat and prefers mornings before ten. ",
    "Allergic to some dyes: patch test 48 h before any colour. ",
    "Her daughter started university in October; ask how it is going. ",
    "Runs a small business nearby and sends friends over regularly. ",
    "Prefers to be called rather than emailed; voicemail is fine. ",
    "Likes to chat about travel: last trip was to Lisbon, next one to Kyoto. ",
)


def customer(n: int, rng: random.Random, imported: bool = False) -> tuple[str, str]:
    """Return (relative path, text) of customer number ``n``.

    ``imported``: an address book brought in with a default cadence, as the second bench vault
    is: about half the customers overdue, most with a structured address.
    """
    first, last = rng.choice(FIRST), rng.choice(LAST)
    slug = f"{first}-{last}-{n}".lower().encode("ascii", "ignore").decode().replace("'", "")
    folder = ("", "", "", "corporate/", "archive/2025/", "leads/")[rng.randrange(6)]
    fm = [f"name: {first} {last}"]
    if rng.random() < 0.95:
        fm.append(f"first_name: {first}")
    fm.append(f'last_name: "{last}"' if "'" in last or rng.random() < 0.1 else f"last_name: {last}")
    fm.append(f"email: {slug}@example.com")
    if rng.random() < 0.7:
        fm.append(f'phone: "+49 151 {rng.randrange(10**7, 10**8)}"')
    if folder == "corporate/" or rng.random() < 0.2:
        fm.append(f"company: {rng.choice(COMPANIES)}")
    if imported and rng.random() < 0.85:
        fm.append(
            f"address:\n  street: {rng.choice(STREETS)} {rng.randrange(1, 200)}\n"
            f'  postcode: "{rng.randrange(10000, 99999)}"\n  city: {rng.choice(CITIES)}\n'
            f"  country: {rng.choice(COUNTRIES)}"
        )
    elif rng.random() < 0.6:
        fm.append(
            f"address: {rng.choice(STREETS)} {rng.randrange(1, 200)}, {rng.randrange(10000, 99999)} City"
        )
    tags = rng.sample(TAGS, rng.randrange(0, 4))
    if tags:
        if rng.random() < 0.7:
            fm.append(f"tags: [{', '.join(tags)}]")
        else:
            fm.append("tags:\n" + "\n".join(f"  - {t}" for t in tags))
    if rng.random() < 0.4:
        fm.append(f"segment: {rng.choice(SEGMENTS)}")
    roll = rng.random()
    if roll < 0.02:
        fm.append("status: lost")
    elif roll < 0.05:
        fm.append("status: paused")
    elif roll < 0.12:
        fm.append("status: lead")
    roll = rng.random()
    if roll < 0.03:
        fm.append(f"birthday: {rng.choice(['1988-', '--', '1996-'])}02-29")
    elif roll < 0.35:
        fm.append(f"birthday: --{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}")
    elif roll < 0.9:
        fm.append(
            f"birthday: {rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        )
    if rng.random() < 0.1:
        fm.append(
            f"anniversary: {rng.randrange(2000, 2024)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        )
    if rng.random() < 0.08:
        fm.append(
            "dates:\n  - label: Opening of the shop\n"
            f"    date: {rng.randrange(2010, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        )
    since = TODAY - timedelta(days=rng.randrange(30, 4000))
    fm.append(f"customer_since: {since}")
    if rng.random() < 0.5:
        fm.append(f"value: {rng.randrange(50, 9000)}")
    if rng.random() < 0.15:
        fm.append(f"cadence: {rng.choice(['30d', '6w', '2m', 'monthly', 'quarterly'])}")
    if rng.random() < 0.05:
        fm.append(f"next_contact: {TODAY + timedelta(days=rng.randrange(-5, 40))} 14:30")
    if rng.random() < 0.03:
        fm.append(f"snooze_until: {TODAY + timedelta(days=rng.randrange(1, 60))}")
    if rng.random() < 0.02:
        start = TODAY + timedelta(days=rng.randrange(-20, 30))
        fm.append(f"away:\n  from: {start}\n  to: {start + timedelta(days=rng.randrange(3, 30))}")
    likes = rng.sample(LIKES, rng.randrange(1, 5))
    fm.append(f"likes: [{', '.join(likes)}]")
    if rng.random() < 0.3:
        fm.append(f"dislikes: [{rng.choice(LIKES)}]")
    if rng.random() < 0.05:
        fm.append("# imported from the old booking system")
    if rng.random() < 0.01:
        # Forms outside the fast path: a block scalar and a flow mapping.
        fm.append("notes: |\n  Met at the trade fair.\n  Interested in the loyalty card.")
        fm.append("source: {system: old-crm, id: " + str(n) + "}")
    body = [
        "",
        "".join(rng.choice(BODY) for _ in range(rng.randrange(2, 6))),
        "",
        "## Log",
    ]
    # Most customers were seen recently; a few percent are overdue, as in a kept-up vault.
    late = False
    if imported:
        late = rng.random() >= 0.5
        last_seen = TODAY - timedelta(
            days=rng.randrange(100, 900) if late else rng.randrange(0, 20)
        )
    else:
        last_seen = TODAY - timedelta(days=rng.randrange(0, 20) if rng.random() < 0.97 else 200)
    entries = rng.randrange(5, 31)
    day = last_seen - timedelta(days=entries * 20)
    for i in range(entries):
        day = last_seen if i == entries - 1 else day + timedelta(days=rng.randrange(1, 20))
        day = min(day, last_seen)
        at = (
            f" {rng.randrange(8, 19):02d}:{rng.choice(['00', '15', '30', '45'])}"
            if rng.random() < 0.2
            else ""
        )
        kind = "visit" if i == entries - 1 else rng.choice(KINDS)
        body.append(f"- {day}{at} {kind}: {rng.choice(TEXTS)}")
    if rng.random() < 0.08:
        # A question after the last visit, not answered yet: a reply owed (crm replies).
        body.append(f"- {last_seen + timedelta(days=1)} question: {rng.choice(TEXTS)}")
    if rng.random() < 0.9 and not (imported and late):
        # Loyal customers get thanked now and then (crm thanks / the agenda's "Say thank you").
        thanked = TODAY - timedelta(days=rng.randrange(1, 80))
        kind = rng.choice(["card", "gift", "thanks"])
        body.insert(len(body) - 1, f"- {thanked} {kind}: a thank-you for being a regular")
    text = "---\n" + "\n".join(fm) + "\n---\n" + "\n".join(body) + "\n"
    # Longer notes, not more log lines, bring the file to its 2-4 KB.
    notes = []
    missing = rng.randrange(2048, 4000) - len(text.encode())
    while missing > 0:
        sentence = rng.choice(BODY)
        notes.append(sentence)
        missing -= len(sentence.encode())
    if notes:
        head, _, log = text.partition("\n## Log\n")
        text = f"{head}\n## Notes\n{''.join(notes).strip()}\n\n## Log\n{log}"
    return f"{folder}{slug}.md", text


OFFER = """---
kind: offer
channel: any
subject: A winter balayage, just for you
topic: offers
audience:
  likes: balayage
---
Hi {{ hello }},

In January every balayage comes with a free gloss treatment. Reply and I'll keep a slot for you.

{{ me.signature }}
"""


def generate(count: int, seed: int, out: Path, imported: bool = False) -> None:
    """Write ``count`` customers, a ``crm.toml`` and an offer template (``OFFER``, for
    ``crm draft offer``) into ``out`` (see ``customer``)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crm.toml").write_text(
        '[defaults]\ncadence = "90d"\nmax_contacts = "4/30d"\n\n[cadence]\nvip = "21d"\n'
        'regular = "6w"\n\n[business]\nname = "Lumen Hair Studio"\n'
        'signature = "Mara from Lumen Hair Studio"\nregion = "DE"\n\n'
        '[[rewards]]\nname = "free blow-dry"\nevery = 5\n\n'
        '[[rewards]]\nname = "gift box"\nspent = 1500\n',
        encoding="utf-8",
    )
    messages = out / "templates" / "messages"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / "offer.md").write_text(OFFER, encoding="utf-8")
    for n in range(count):
        rel, text = customer(n, rng, imported)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main() -> None:
    """Parse the command line and generate the vault."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--imported",
        action="store_true",
        help="an imported address book: about half overdue, most addresses structured",
    )
    args = parser.parse_args()
    generate(args.count, args.seed, args.out, args.imported)


if __name__ == "__main__":
    main()
