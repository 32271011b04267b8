"""``crm init --language``: starter message templates in the vault's language, and its crm.toml."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from crm.cli import main
from crm.core.closures import Closure
from crm.core.config import Config, load_config
from crm.core.model import Customer, Interaction, Location
from crm.core.outreach import BusinessConfig
from crm.edit.starters import LANGUAGES, NAMES, STARTERS
from crm.outreach.occasions import closure_names
from crm.outreach.render import render
from crm.outreach.templates import parse_template

ALL = [(language, name) for language in LANGUAGES for name in NAMES]
REFUSED = ("valued customer", "geschätzte kundin", "geschätzter kunde", "estimado cliente")


def split(text: str) -> tuple[dict[str, Any], str]:
    """Return a template's front matter and its body."""
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    meta = yaml.safe_load(front)
    assert isinstance(meta, dict)
    return meta, body


def test_init_in_german_writes_german_starters(tmp_path: Path) -> None:
    folder = tmp_path / "kunden"
    result = CliRunner().invoke(main, ["init", "--language", "de", str(folder)])
    assert result.exit_code == 0, result.output
    messages = folder / "templates" / "messages"
    assert sorted(p.name for p in messages.iterdir()) == sorted(f"{n}.md" for n in NAMES)
    birthday = (messages / "birthday.md").read_text(encoding="utf-8")
    assert "subject: Alles Gute zum Geburtstag, {{ hello }}!\n" in birthday
    assert "\nHallo {{ hello }},\n\nalles Gute zum Geburtstag! " in birthday
    offer = (messages / "offer.md").read_text(encoding="utf-8")
    assert "\nich habe etwas, das ich dir gern zuerst anbieten möchte:\n\n[...]\n\n" in offer
    assert offer == STARTERS["de"]["offer"]
    toml = (folder / "crm.toml").read_text(encoding="utf-8")
    assert '\nlanguage = "de"\n' in toml
    config, problems = load_config(folder)
    assert (problems, config.business.language) == ([], "de")
    check = CliRunner().invoke(main, ["--vault", str(folder), "check"])
    assert (check.exit_code, check.output) == (0, "")


def test_the_default_language_is_english(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["init", str(tmp_path)]).exit_code == 0
    config, problems = load_config(tmp_path)
    assert (problems, config.business.language) == ([], "en")
    holiday = (tmp_path / "templates" / "messages" / "holiday.md").read_text(encoding="utf-8")
    assert holiday == STARTERS["en"]["holiday"]
    assert "subject: Happy holidays from {{ me.name }}\n" in holiday


def test_the_commented_settings_parse_when_uncommented(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["init", str(tmp_path)]).exit_code == 0
    toml = tmp_path / "crm.toml"
    lines = toml.read_text(encoding="utf-8").split("\n[business]\n", 1)[1].splitlines()
    # Every commented key of the new sections, uncommented, is a known key with a valid value.
    toml.write_text(
        "[business]\n"
        + "\n".join(line.removeprefix("# ") for line in lines if "=" in line or "[" in line)
        + "\n",
        encoding="utf-8",
    )
    config, problems = load_config(tmp_path)
    assert problems == []
    assert (config.business.name, config.business.region) == ("Lumen Hair Studio", "DE")
    assert (config.outreach.outbox, str(config.outreach.quiet)) == ("outbox", "7d")
    assert (config.smtp.port, config.smtp.security, config.smtp.rate) == (587, "starttls", 30)
    assert config.smtp.password_env == "CRM_SMTP_PASSWORD"
    assert config.smtp.from_ == "Lumen Hair Studio <hello@lumen.example>"


@pytest.mark.parametrize(("language", "name"), ALL, ids=[f"{lang}-{n}" for lang, n in ALL])
def test_every_starter_is_a_valid_template(language: str, name: str) -> None:
    meta, body = split(STARTERS[language][name])
    expected = {
        "holiday": ("greeting", "holidays", None),
        "birthday": ("greeting", "birthday", None),
        "thanks": ("thanks", "thanks", {"report": "thanks"}),
        "offer": ("offer", "offers", None),
        "winback": ("message", "winback", {"report": "winback"}),
        "closure": ("notice", "closures", None),
    }[name]
    assert (meta["kind"], meta["topic"], meta.get("audience")) == expected
    assert (meta["channel"], meta["language"]) == ("any", language)
    template = parse_template(Path(f"{name}.md"), STARTERS[language][name])
    assert (template.kind, template.topic, template.language) == expected[:2] + (language,)
    assert "{{ hello }}" in body
    assert template.has_gap == (name == "offer")
    assert "turns" not in body  # many people would rather not read their age
    text = STARTERS[language][name].lower()
    assert not any(words in text for words in REFUSED)
    assert len(body) < 400  # short enough for a text message


BELLA = Customer("bella", "Bella Rossi", Location(Path("bella.md")), first_name="Bella",
                 emails=("bella@example.com",))  # fmt: skip


@pytest.mark.parametrize(("language", "name"), ALL, ids=[f"{lang}-{n}" for lang, n in ALL])
def test_every_starter_renders_with_only_the_names_that_always_exist(
    language: str, name: str
) -> None:
    template = parse_template(Path(f"{name}.md"), STARTERS[language][name])
    day = date(2026, 12, 1)
    plain = Config(business=BusinessConfig(name="Lumen"))
    # A closure's message also sees the closure (crm draft for one passes it).
    closure = Closure(date(2026, 12, 20), date(2027, 1, 6))
    extra = closure_names(closure, plain) if name == "closure" else None
    message = render(template, BELLA, plain, day, "c", extra)
    assert "Bella" in message.body and message.body.endswith("\nLumen\n")
    assert message.subject
    signed = Config(business=BusinessConfig(name="Lumen", signature="Mara"))
    visited = replace(BELLA, log=(Interaction(date(2026, 3, 5), None, "visit", "cut", True,
                                              BELLA.location),))  # fmt: skip
    full = render(template, visited, signed, day, "c", extra)
    assert full.body.endswith("\nMara\n")
    if name == "winback":
        march = {"en": "March 2026", "de": "März 2026", "es": "marzo de 2026"}[language]
        assert march in full.body and march not in message.body
