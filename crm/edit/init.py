"""``crm init``: the files of a new vault, written only where nothing exists yet."""

from __future__ import annotations

from pathlib import Path

from crm.core.errors import CrmError
from crm.edit.starters import LANGUAGES, STARTERS

CONFIG_TEXT = """\
# crm vault settings. Every key is optional; the values shown are the defaults
# or examples. See docs/format.md for the full list.

[vault]
# Which files are customers (globs relative to this folder). Default: every *.md
# outside hidden folders and templates/, except a top-level README.md.
# include = ["customers/**/*.md"]
# exclude = ["archive/**"]
# The vault's time zone: what "today" is for every command, and the zone of follow-ups
# that have a time (next_contact: 2026-05-01 14:30). Unset: today is the machine's date,
# and times are UTC.
# timezone = "Europe/Berlin"
# Where a Feb 29 birthday falls in common years: "feb28" or "mar1".
feb29 = "feb28"
# How a slash date in the Log reads: "DMY" (03/04/2026 is 3 April) or "MDY" (March 4).
# Unset, slash dates are refused as ambiguous.
# date_order = "DMY"

[defaults]
# Contact everyone at least this often unless a tag, segment or the file says otherwise.
cadence = "90d"
# More contact and broadcast entries than this inside the trailing period is
# "too much contact".
max_contacts = "4/30d"

[cadence]
# A cadence per tag or segment; a customer's own `cadence:` wins.
# vip = "14d"

[kinds]
# What each log kind is. contact (call, email, text, visit, meeting, ...) resets the
# rhythm and counts toward max_contacts; broadcast (greeting, newsletter, offer, notice)
# only counts toward max_contacts; inbound (received, question, request, missed-call)
# came from the customer: a reply you owe until a contact follows, never outreach; note
# counts for none of these. A kind named here moves to that class; a kind named nowhere
# is contact, and crm check lists it.
# contact = ["consultation"]
# broadcast = ["flyer"]
# inbound = ["enquiry"]
# note = ["idea"]

[feed]
# name = "Customers"
# days_back = 30
# days_ahead = 400

[business]
# Who writes the messages; templates see these as me.name, me.signature, me.phone, me.email.
# The business name, e.g. in subjects.
# name = "Lumen Hair Studio"
# How messages are signed (unset: the name).
# signature = "Mara from Lumen Hair Studio"
# The phone number customers can reach you at.
# phone = "+49 30 1234567"
# The email address customers can reach you at.
# email = "hello@lumen.example"
# The language of messages and their dates for customers who name none.
language = "{language}"
# ISO country code: how phone numbers without +country read.
# region = "DE"

[outreach]
# Drafts wait in this folder of the vault until you send them.
# outbox = "outbox"
# Nobody gets a message within this many days of any outreach (but a closure notice to
# those it concerns: news of their own next visit).
# quiet = "7d"
# A reply they wait for (crm replies) is late this long after they asked.
# reply_within = "2d"
# Tags or segments of your regulars: told of every closure, due or not. Being loyal
# (crm thanks) is no reason on its own: most customers with three visits a year are.
# regulars = ["regular"]

# [topics]
# Words that mean one thing to a customer: a dislike or opt_out of any of them holds back a
# message whose topic (or broadcast kind) is in the group. offers already has promotion,
# deal, marketing, discount, sale...; newsletter has news, update. Add words, or a group.
# offers = ["goodies"]

# When you are closed (crm closed FROM TO adds one): nobody is due then, and crm draft
# closure tells the customers it concerns, notice_days before.
# [[closures]]
# from = 2026-12-24
# to = 2027-01-06
# reason = "winter holiday"

# A message every year: from lead_days before, the agenda says how many are still to send.
# [[occasions]]
# name = "Holiday greetings"
# date = "12-20"
# template = "holiday"
# lead_days = 7

# A reward for loyal customers (crm rewards): every N visits, or per step of value.
# Log "reward: free blow-dry" when it is given; the count starts again.
# [[rewards]]
# name = "free blow-dry"
# every = 10
# kind = "visit"
# template = "reward"

# [smtp]
# How crm send reaches your mail server.
# host = "smtp.example.com"
# port = 587
# How the connection is secured: "starttls", "ssl" or "none".
# security = "starttls"
# user = "hello@lumen.example"
# The environment variable that holds the password: never a password in the vault.
# password_env = "CRM_SMTP_PASSWORD"
# from = "Lumen Hair Studio <hello@lumen.example>"
# At most this many messages per minute.
# rate = 30

# [digest]
# Where crm digest --send mails the day's agenda (run it each morning: docs/outreach.md).
# to = "Mara <mara@lumen.example>"
# The subject; {date} becomes the day.
# subject = "crm: your day, {date}"
"""

TEMPLATE_TEXT = """\
---
name: {name}
first_name: {first_name}
last_name: {last_name}
status: active
tags: []
# birthday: 1990-04-14      (or --04-14 when the year is unknown)
# cadence: 30d
# nickname: Bee             (greetings use it before first_name)
# address: {street: Via Roma 1, postcode: "00184", city: Roma, country: Italy}
# family: [{name: Luca, relation: son, birthday: 2015-06-01}]
---

## Notes

## Log
"""

SAMPLE_TEXT = """\
---
name: Bella Rossi
first_name: Bella
last_name: Rossi
email: bella@example.com
status: active
tags: [regular]
birthday: --04-14
cadence: 60d
likes: [espresso, gardening]
---

Met at the spring market; prefers texts to calls.

## Log
- 2026-01-10 call: asked about the spring offers
- 2026-01-11 note: send her the catalogue before March
"""

GITIGNORE_TEXT = "# crm's index cache: derived from the files, safe to delete\n.crm/\n"


def config_text(language: str = "en") -> str:
    """Return the text of a new crm.toml whose messages are in ``language``."""
    return CONFIG_TEXT.replace("{language}", language)


def init_vault(folder: Path, *, example: bool = False, language: str = "en") -> list[Path]:
    """Create a new vault in ``folder`` (with a sample customer when ``example``, starter message
    templates in ``language``) and return the files written; refuse to overwrite."""
    if language not in STARTERS:
        raise CrmError(
            f"no starter templates in {language!r}; choose one of {', '.join(LANGUAGES)}",
            exit_code=2,
        )
    files = {
        folder / "crm.toml": config_text(language),
        folder / "templates" / "customer.md": TEMPLATE_TEXT,
        **{
            folder / "templates" / "messages" / f"{name}.md": text
            for name, text in STARTERS[language].items()
        },
        folder / ".gitignore": GITIGNORE_TEXT,
    }
    if example:
        files[folder / "bella-rossi.md"] = SAMPLE_TEXT
    existing = [p for p in files if p.exists()]
    if existing:
        names = ", ".join(str(p) for p in existing)
        raise CrmError(f"refusing to overwrite existing files: {names}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as f:
            f.write(text)
    written = list(files)
    from crm.edit import gitmerge  # a vault inside a git clone gets the merge driver right away

    if gitmerge.repo_root(folder) is not None:
        attributes = folder / ".gitattributes"
        existed = attributes.exists()
        gitmerge.setup(folder)
        if not existed:
            written.append(attributes)
    return written
