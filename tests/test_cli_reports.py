"""CLI reports on vault-example/ with a fixed --today, pinned byte for byte."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from crm.cli import main
from tests.conftest import REPO, WriteVault

TODAY = "2026-11-23"

# Each command's whole output on the example vault; the vault's README explains who is who.
EXPECTED: dict[tuple[str, ...], str] = {
    ("agenda", "--today", TODAY): (
        "Agenda for Mon 2026-11-23 (22 customers)\n"
        "\n"
        "Contact now (4)\n"
        "  NAME          LATE   REACH                            LIKES\n"
        "  Priya Raman   never  priya.raman@example.in           natural looks\n"
        "  Bella Rossi   29d    bella.rossi@example.it           espresso, vintage waves\n"
        "    2026-08-30 text: sent photos from the wedding\n"
        "  Olivia Brown  16d    olivia.brown@brightside.example  team events\n"
        "    2026-10-08 email: sent the quote\n"
        "  Ana García    13d    ana.garcia@example.com           balayage, oat latte, ta…\n"
        "    2026-10-20 visit: balayage refresh, very happy\n"
        "\n"
        "Due today (1)\n"
        "  NAME           LATE  REACH                      LIKES\n"
        "  Fatima Haddad  0d    fatima.haddad@example.com  henna treatments, cardamom co…\n"
        "    2026-10-26 visit: trim and henna top-up\n"
        "\n"
        "Next 14 days (17)\n"
        "  DATE        WHEN    NAME           WHAT                                 NOTE\n"
        "  2026-11-25  Wed     Priya Raman    follow-up at 14:30\n"
        "  2026-11-27  Fri     Chloé Dubois   birthday (turns 36)\n"
        "  2026-11-28  Sat     Emma Wilson    anniversary (10 years)\n"
        "  2026-11-29  Sun     Mia Johansson  reach out\n"
        "  2026-11-30  in 7d   David Cohen    follow-up\n"
        "  2026-11-30  in 7d   Henrik Larsen  birthday (turns 56)                  paused\n"
        "  2026-11-30  in 7d   Lucas Silva    reach out\n"
        "  2026-12-01  in 8d   Júlia Santos   reach out\n"
        "  2026-12-01  in 8d   Lucas Silva    Opening of his barbershop (5 years)\n"
        "  2026-12-01  in 8d   Zoë Müller     7 years as a customer\n"
        "  2026-12-02  in 9d   Ana García     birthday (turns 37)\n"
        "  2026-12-04  in 11d  Noah Kim       birthday\n"
        "  2026-12-05  in 12d  Ana García     daughter Lucía turns 18\n"
        "  2026-12-05  in 12d  Chloé Dubois   reach out\n"
        "  2026-12-05  in 12d  Emma Wilson    Daughter's wedding\n"
        "  2026-12-05  in 12d  Grace Okafor   reach out\n"
        "  2026-12-05  in 12d  Noah Kim       reach out\n"
        "\n"
        "Too much contact: give them a rest (1)\n"
        "  NAME        OUTREACH  LIMIT  SINCE       LATEST\n"
        "  Tom Becker  4         2/30d  2026-10-25  2026-11-20 newsletter\n"
        "\n"
        "Say thank you (2)\n"
        "  NAME          VISITS  VALUE  LAST THANKED  LIKES\n"
        "  Grace Okafor  4       4200   never         braids, hibiscus tea, gospel music\n"
        "  Ana García    2       2840   never         balayage, oat latte, talking about…\n"
        "\n"
        "Rewards (1)\n"
        "  NAME          REWARD         STANDING  EARNED          LAST GIVEN\n"
        "  Grace Okafor  free blow-dry  due       every 4 visits  never\n"
        "\n"
        "Worth winning back (1)\n"
        "  NAME            VALUE  LEFT          LIKES\n"
        "  Marcus O'Neill  1650   9 months ago  skin fades, football talk\n"
        "\n"
        "Closures and occasions (1)\n"
        "  2026-12-03  Tell customers about the closure from 2026-12-24: crm draft closure\n"
    ),
    ("overdue", "--today", TODAY): (
        "NAME          LATE   LAST CONTACT      EVERY  LIKES\n"
        "Priya Raman   never  never             14d    natural looks\n"
        "Bella Rossi   29d    2026-08-30 text   8w     espresso, vintage waves\n"
        "Olivia Brown  16d    2026-10-08 email  30d    team events\n"
        "Ana García    13d    2026-10-20 visit  21d    balayage, oat latte, talking abou…\n"
    ),
    ("upcoming", "--today", TODAY): (
        "DATE        WHEN    NAME               WHAT                               NOTE\n"
        "2026-11-23  today   Fatima Haddad      reach out\n"
        "2026-11-25  Wed     Priya Raman        follow-up at 14:30\n"
        "2026-11-27  Fri     Chloé Dubois       birthday (turns 36)\n"
        "2026-11-28  Sat     Emma Wilson        anniversary (10 years)\n"
        "2026-11-29  Sun     Mia Johansson      reach out\n"
        "2026-11-30  in 7d   David Cohen        follow-up\n"
        "2026-11-30  in 7d   Henrik Larsen      birthday (turns 56)                paused\n"
        "2026-11-30  in 7d   Lucas Silva        reach out\n"
        "2026-12-01  in 8d   Júlia Santos       reach out\n"
        "2026-12-01  in 8d   Lucas Silva        Opening of his barbershop (5 yea…\n"
        "2026-12-01  in 8d   Zoë Müller         7 years as a customer\n"
        "2026-12-02  in 9d   Ana García         birthday (turns 37)\n"
        "2026-12-04  in 11d  Noah Kim           birthday\n"
        "2026-12-05  in 12d  Ana García         daughter Lucía turns 18\n"
        "2026-12-05  in 12d  Chloé Dubois       reach out\n"
        "2026-12-05  in 12d  Emma Wilson        Daughter's wedding\n"
        "2026-12-05  in 12d  Grace Okafor       reach out\n"
        "2026-12-05  in 12d  Noah Kim           reach out\n"
        "2026-12-09  in 16d  Ravi Patel         reach out\n"
        "2026-12-09  in 16d  李伟 (Li Wei)      birthday (turns 41)\n"
        "2026-12-10  in 17d  Brightside Dental  reach out\n"
        "2026-12-11  in 18d  李伟 (Li Wei)      reach out\n"
        "2026-12-13  in 20d  Zoë Müller         reach out\n"
        "2026-12-14  in 21d  David Cohen        son Eli turns 5\n"
        "2026-12-14  in 21d  David Cohen        son Noam turns 5\n"
        "2026-12-16  in 23d  Søren Kristensen   reach out\n"
        "2026-12-18  in 25d  Emma Wilson        reach out\n"
    ),
    ("upcoming", "--days", "7", "--today", TODAY): (
        "DATE        WHEN   NAME           WHAT                    NOTE\n"
        "2026-11-23  today  Fatima Haddad  reach out\n"
        "2026-11-25  Wed    Priya Raman    follow-up at 14:30\n"
        "2026-11-27  Fri    Chloé Dubois   birthday (turns 36)\n"
        "2026-11-28  Sat    Emma Wilson    anniversary (10 years)\n"
        "2026-11-29  Sun    Mia Johansson  reach out\n"
        "2026-11-30  in 7d  David Cohen    follow-up\n"
        "2026-11-30  in 7d  Henrik Larsen  birthday (turns 56)     paused\n"
        "2026-11-30  in 7d  Lucas Silva    reach out\n"
    ),
    ("noisy", "--today", TODAY): (
        "NAME        OUTREACH  LIMIT  SINCE       LATEST\n"
        "Tom Becker  4         2/30d  2026-10-25  2026-11-20 newsletter\n"
    ),
    ("list",): (
        "ID                 NAME               STATUS              TAGS\n"
        "ana-garcia         Ana García         active              vip, regular\n"
        "bella-rossi        Bella Rossi        active              regular\n"
        "brightside-dental  Brightside Dental  active\n"
        "chloe-dubois       Chloé Dubois       active              regular\n"
        "david-cohen        David Cohen        active\n"
        "emma-wilson        Emma Wilson        active              regular\n"
        "fatima-haddad      Fatima Haddad      active\n"
        "grace-okafor       Grace Okafor       active              vip, regular\n"
        "henrik-larsen      Henrik Larsen      paused\n"
        "julia-santos       Júlia Santos       active              vip\n"
        "lucas-silva        Lucas Silva        active\n"
        "marcus-oneill      Marcus O'Neill     lost\n"
        "mia-johansson      Mia Johansson      active              bridal\n"
        "noah-kim           Noah Kim           active\n"
        "olivia-brown       Olivia Brown       active\n"
        "priya-raman        Priya Raman        lead                bridal\n"
        "ravi-patel         Ravi Patel         lead\n"
        "soren-kristensen   Søren Kristensen   active              regular\n"
        "tom-becker         Tom Becker         active              regular\n"
        "walter-hughes      Walter Hughes      active, no contact  regular\n"
        "zoe-muller         Zoë Müller         active              regular\n"
        "li-wei             李伟 (Li Wei)      active              regular\n"
    ),
    ("list", "--tag", "vip"): (
        "ID            NAME          STATUS  TAGS\n"
        "ana-garcia    Ana García    active  vip, regular\n"
        "grace-okafor  Grace Okafor  active  vip, regular\n"
        "julia-santos  Júlia Santos  active  vip\n"
    ),
    ("list", "--overdue", "--today", TODAY): (
        "ID            NAME          STATUS  TAGS\n"
        "ana-garcia    Ana García    active  vip, regular\n"
        "bella-rossi   Bella Rossi   active  regular\n"
        "olivia-brown  Olivia Brown  active\n"
        "priya-raman   Priya Raman   lead    bridal\n"
    ),
    ("list", "--status", "lost"): (
        "ID             NAME            STATUS  TAGS\nmarcus-oneill  Marcus O'Neill  lost\n"
    ),
    ("list", "--company", "brightside dental"): (
        "ID                 NAME               STATUS  TAGS\n"
        "brightside-dental  Brightside Dental  active\n"
        "noah-kim           Noah Kim           active\n"
        "olivia-brown       Olivia Brown       active\n"
    ),
    ("list", "--segment", "corporate"): (
        "ID                 NAME               STATUS  TAGS\n"
        "brightside-dental  Brightside Dental  active\n"
        "noah-kim           Noah Kim           active\n"
        "olivia-brown       Olivia Brown       active\n"
    ),
    ("show", "Ana", "--today", TODAY): (
        "Ana García (ana-garcia)  active  #vip #regular\n"
        "  first name:     Ana\n"
        "  last name:      García\n"
        "  nickname:       Anita\n"
        "  language:       es\n"
        "  email:          ana.garcia@example.com\n"
        "  phone:          +49 151 2345 6789\n"
        "  address:        Lindenstraße 12\n"
        "                  10969 Berlin\n"
        "                  Germany\n"
        "  value:          2840\n"
        "  customer since: 2018-04-15\n"
        "  likes:          balayage, oat latte, talking about her garden\n"
        "  dislikes:       loud music\n"
        "  family:         Lucía (daughter), born 2008-12-05\n"
        "                  Jonas (husband)\n"
        "  contact:        overdue, every 21d, last 2026-10-20 (visit), due 2026-11-10\n"
        "Next dates:\n"
        "  2026-12-02  birthday (turns 37)\n"
        "  2026-12-05  daughter Lucía turns 18\n"
        "  2027-04-15  9 years as a customer\n"
        "Planned:\n"
        "  call: ask how Lucía likes university\n"
        "Latest log:\n"
        "  2026-10-21 note: send a photo of the colour chart before the next appointment\n"
        "  2026-10-20 visit: balayage refresh, very happy\n"
        "  2026-09-28 visit: cut and gloss; wants to go lighter for winter\n"
        "Notes:\n"
        "  Always books the window seat. Her daughter Lucía started university in October.\n"
        "File: vault-example/ana-garcia.md\n"
    ),
    ("show", "søren", "--today", TODAY): (
        "Søren Kristensen (soren-kristensen)  active  #regular\n"
        "  first name:     Søren\n"
        "  last name:      Kristensen\n"
        "  email:          soren.k@example.dk\n"
        "  likes:          beard trims, jazz\n"
        "  contact:        away, every 6w, last 2026-09-02 (call), due 2026-12-16\n"
        "  away:           2026-11-10 to 2026-12-15\n"
        "Next dates:\n"
        "  2026-12-16  reach out\n"
        "  2027-06-21  birthday (turns 49)\n"
        "Latest log:\n"
        "  2026-09-02 call: moved his October booking to after his trip\n"
        "  2026-08-12 visit: haircut and beard trim\n"
        "Notes:\n"
        "  Spends late autumn with family in Aarhus every year.\n"
        "File: vault-example/soren-kristensen.md\n"
    ),
    ("show", "marcus-oneill", "--today", TODAY): (
        "Marcus O'Neill (marcus-oneill)  lost\n"
        "  first name:     Marcus\n"
        "  last name:      O'Neill\n"
        "  email:          marcus.oneill@example.ie\n"
        "  value:          1650\n"
        "  customer since: 2020-02-10\n"
        "  likes:          skin fades, football talk\n"
        "  contact:        not contacted (status lost), every 90d, last 2026-02-14 (visit), due 2026-05-15\n"
        "Latest log:\n"
        "  2026-04-02 note: said he found a barber near work\n"
        "  2026-02-14 visit: skin fade\n"
        "Notes:\n"
        "  Moved to a barber closer to his new office in spring.\n"
        "File: vault-example/marcus-oneill.md\n"
    ),
    ("search", "garden"): (
        "ID          NAME        STATUS  TAGS\nana-garcia  Ana García  active  vip, regular\n"
    ),
}


def crm(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--vault", "vault-example", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture(autouse=True)
def at_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


@pytest.mark.parametrize("args", list(EXPECTED), ids=" ".join)
def test_report_output_is_pinned(args: tuple[str, ...]) -> None:
    assert crm(*args) == (0, EXPECTED[args])


def test_overdue_json_is_stable_for_scripts() -> None:
    code, out = crm("overdue", "--today", TODAY, "--format", "json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["id"], r["name"], r["due"], r["days_overdue"], r["last_contact"]) for r in rows] == [
        ("priya-raman", "Priya Raman", None, None, None),
        ("bella-rossi", "Bella Rossi", "2026-10-25", 29, "2026-08-30"),
        ("olivia-brown", "Olivia Brown", "2026-11-07", 16, "2026-10-08"),
        ("ana-garcia", "Ana García", "2026-11-10", 13, "2026-10-20"),
    ]


def test_upcoming_json_carries_kind_label_and_age() -> None:
    code, out = crm("upcoming", "--today", TODAY, "--days", "9", "--format", "json")
    rows = json.loads(out)
    assert code == 0
    picked = {(r["id"], r["kind"]): (r["date"], r["label"], r["age"], r["years"]) for r in rows}
    assert picked[("ana-garcia", "birthday")] == ("2026-12-02", "Birthday", 37, None)
    assert picked[("emma-wilson", "anniversary")] == ("2026-11-28", "Anniversary", None, 10)
    assert picked[("zoe-muller", "date")] == ("2026-12-01", "Customer since", None, 7)
    assert picked[("priya-raman", "followup")] == ("2026-11-25", "Follow-up", None, None)
    assert picked[("fatima-haddad", "due")] == ("2026-11-23", "Reach out", None, None)
    assert {r["kind"] for r in rows} == {"birthday", "anniversary", "date", "followup", "due"}


def test_csv_has_a_header_and_every_json_key() -> None:
    code, out = crm("list", "--tag", "vip", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "id,name,first_name,status,tags,segment,company,email,phone,path,no_contact",
        'ana-garcia,Ana García,Ana,active,"vip, regular",,,ana.garcia@example.com,'
        "+49 151 2345 6789,vault-example/ana-garcia.md,False",
        'grace-okafor,Grace Okafor,Grace,active,"vip, regular",,,grace.okafor@example.ng,'
        ",vault-example/grace-okafor.md,False",
        "julia-santos,Júlia Santos,Júlia,active,vip,,,,+351 912 345 678,"
        "vault-example/julia-santos.md,False",
    ]


def test_lost_paused_away_and_snoozed_are_never_suggested() -> None:
    code, out = crm("overdue", "--today", TODAY, "--format", "json")
    flagged = {r["id"] for r in json.loads(out)}
    for leave_alone in ("marcus-oneill", "henrik-larsen", "soren-kristensen", "julia-santos"):
        assert leave_alone not in flagged


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zz", "crm: no customer matches 'zz'\n"),
        ("m", "crm: 'm' is ambiguous; did you mean one of:\n"
              "  marcus-oneill  Marcus O'Neill\n  mia-johansson  Mia Johansson\n"),
        ("li", None),
    ],
)  # fmt: skip
def test_show_resolves_names_or_lists_candidates(name: str, message: str | None) -> None:
    code, out = crm("show", name, "--today", TODAY)
    if message is None:
        assert code == 0 and out.startswith("李伟 (Li Wei) (li-wei)")
    else:
        assert (code, out) == (2, message)


def test_show_json_has_the_whole_profile() -> None:
    code, out = crm("show", "emma", "--today", TODAY, "--format", "json")
    profile = json.loads(out)
    assert code == 0
    assert profile["id"] == "emma-wilson"
    assert profile["contact"]["state"] == "ok"
    assert [d["label"] for d in profile["dates"]] == ["Anniversary", "Daughter's wedding"]


def test_show_csv_is_one_flat_row_of_the_profile() -> None:
    header = (
        "id,name,first_name,status,tags,segment,company,email,phone,path,no_contact,last_name,"
        "nickname,"
        "salutation,language,address,value,"
        "likes,dislikes,customer_since,contact_state,cadence,last_contact,due,days_overdue,"
        "next_contact,snooze_until,away_from,away_to\n"
    )
    assert crm("show", "ana", "--today", TODAY, "--format", "csv") == (
        0,
        header + 'ana-garcia,Ana García,Ana,active,"vip, regular",,,ana.garcia@example.com,'
        "+49 151 2345 6789,vault-example/ana-garcia.md,False,García,Anita,,es,"
        '"Lindenstraße 12, 10969 Berlin, Germany",'
        '2840,"balayage, oat latte, talking about her garden",loud music,2018-04-15,overdue,21d,'
        "2026-10-20,2026-11-10,13,,,,\n",
    )
    assert crm("show", "søren", "--today", TODAY, "--format", "csv") == (
        0,
        header + "soren-kristensen,Søren Kristensen,Søren,active,regular,,,soren.k@example.dk,,"
        'vault-example/soren-kristensen.md,False,Kristensen,,,,,,"beard trims, jazz",,,away,6w,2026-09-02,'
        "2026-12-16,,,,2026-11-10,2026-12-15\n",
    )
    assert crm("show", "priya", "--today", TODAY, "--format", "csv")[1].splitlines()[1] == (
        "priya-raman,Priya Raman,Priya,lead,bridal,,,priya.raman@example.in,,"
        "vault-example/priya-raman.md,False,Raman,,,,,,natural looks,,,never,14d,,,,2026-11-25 14:30:00,,,"
    )


def test_bad_today_is_a_usage_error() -> None:
    code, out = crm("overdue", "--today", "2026-13-01")
    assert code == 2
    assert "Invalid value for '--today': month 13 in '2026-13-01' (expected YYYY-MM-DD," in out
    code, out = crm("overdue", "--today", "9999-12-31")
    assert code == 2
    assert "Invalid value for '--today': year 9999 in '9999-12-31' (years 1000 to 2999)" in out


def test_every_command_has_help_with_an_example() -> None:
    for command in ("check", "list", "overdue", "upcoming", "noisy", "agenda", "show", "search"):
        code, out = crm(command, "--help")
        assert code == 0
        assert "Example" in out, command


def test_names_typed_in_nfd_find_nfc_files() -> None:
    import unicodedata

    code, out = crm("show", unicodedata.normalize("NFD", "Zoë"), "--today", TODAY)
    assert code == 0 and out.startswith("Zoë Müller (zoe-muller)")
    code, out = crm("search", unicodedata.normalize("NFD", "Müller"))
    assert (code, out.splitlines()[1].split()[0]) == (0, "zoe-muller")


def test_undecodable_bytes_in_a_name_are_a_usage_error() -> None:
    code, out = crm("show", "\udcff")
    assert code == 2
    assert "'\\udcff' is not valid UTF-8 text" in out


def test_search_accepts_today_like_every_report() -> None:
    assert crm("search", "garden", "--today", TODAY) == crm("search", "garden")


def test_the_agenda_is_a_digest_of_twenty_rows_a_section(write_vault: WriteVault) -> None:
    people = {
        f"p{n:02d}.md": f"---\nname: Person {n:02d}\nfirst_name: P\nlast_contact: 2026-0{1 + n % 5}-10\n---\n"
        for n in range(25)
    }
    root = write_vault({"crm.toml": '[defaults]\ncadence = "30d"\n', **people})
    runner = CliRunner()

    def agenda(*args: str) -> list[str]:
        result = runner.invoke(
            main, ["--vault", str(root), "agenda", "--today", "2026-11-23", *args]
        )
        assert (result.exit_code, result.stderr) == (0, "")
        return result.stdout.splitlines()

    lines = agenda()
    assert lines[2] == "Contact now (25)"
    assert sum(line.startswith("  Person ") for line in lines) == 20
    assert lines[-1] == "  … and 5 more: crm overdue"
    lines = agenda("--limit", "2")
    assert lines[2:9] == [
        "Contact now (25)",
        "  NAME       LATE  REACH  LIKES",
        "  Person 00  287d",
        "    2026-01-10",
        "  Person 05  287d",
        "    2026-01-10",
        "  … and 23 more: crm overdue",
    ]
    assert sum(line.startswith("  Person ") for line in agenda("--limit", "0")) == 25
    result = runner.invoke(
        main, ["--vault", str(root), "agenda", "--today", "2026-11-23", "--format", "json"]
    )
    found = json.loads(result.stdout)
    assert (len(found["overdue"]), found["more"]["overdue"], found["more"]["upcoming"]) == (
        20,
        5,
        0,
    )
    (root / "crm.toml").write_text('[defaults]\ncadence = "30d"\n[agenda]\nrows = 0\n')
    assert sum(line.startswith("  Person ") for line in agenda()) == 25
    (root / "crm.toml").write_text('[defaults]\ncadence = "30d"\n[agenda]\nrows = "many"\n')
    result = runner.invoke(main, ["--vault", str(root), "check"])
    assert (result.exit_code, result.stderr.replace(f"{root}/", "")) == (
        1,
        "crm.toml:4: agenda.rows: 'many' is not a whole number of rows (0: all)\n",
    )
    result = runner.invoke(
        main,
        [
            "--vault",
            str(root),
            "overdue",
            "--today",
            "2026-11-23",
            "--limit",
            "2",
            "--format",
            "csv",
        ],
    )
    assert [line.rsplit(",", 1)[0] for line in result.stdout.splitlines()[1:]] == [
        "p00,Person 00,P,2026-02-09,287,False,2026-01-10,,30d,,287d,2026-01-10,,2026-01-10",
        "p05,Person 05,P,2026-02-09,287,False,2026-01-10,,30d,,287d,2026-01-10,,2026-01-10",
    ]
