"""Message templates: ``templates/messages/NAME.md``, front matter then a sandboxed Jinja2 body.

A shared vault's template must not run code, so it renders in Jinja2's
``SandboxedEnvironment`` with ``StrictUndefined``: a name no customer has is an error at
``template:line`` naming the closest real one, found before any message is rendered; a value
this customer lacks fails their message ("missing nickname") unless the template gives a
fallback with ``default()``. Each message renders within the time, size and memory limits of
``limits.py`` (``sandbox.py`` is the environment that keeps them).
"""

from __future__ import annotations

import difflib
import glob
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import meta, nodes

from crm.core.errors import CrmError
from crm.core.fields import FIELDS
from crm.core.kinds import Kinds
from crm.core.model import Location, Problem
from crm.core.outreach import AUDIENCE_KEYS, BusinessConfig
from crm.outreach.localdates import date_filter
from crm.outreach.sandbox import LimitedEnvironment, limited
from crm.rules.audience import REPORTS
from crm.rules.words import folded
from crm.vault.files import read_regular
from crm.vault.syntax import front_matter_end

TEMPLATE_FOLDER = Path("templates") / "messages"
CHANNELS = ("email", "sms", "whatsapp", "any")
GAP = "[...]"  # where the person writes a personal line: a draft holding it is never sent
# Greetings that say the writer does not know whom they write to; refused in any template.
IMPERSONAL = ("valued customer", "geschätzte kundin", "geschätzter kunde", "estimado cliente")
KEYS = (
    "kind", "channel", "language", "subject", "topic", "audience", "log", "nameless",
    "greet_organisations",
)  # fmt: skip
VARIANT_KEYS = frozenset({"subject", "language"})  # the rest is the base template's
# The names a template may use beside the customer's fields (``crm.core.fields``).
CONTEXT_NAMES = ("hello", "last", "next_birthday", "turns", "me", "today", "campaign", "channel")
# Seen only by the messages of a closure or an occasion (``crm draft`` for one).
EVENT_NAMES = ("closure", "occasion")
ATTRIBUTES = {
    "me": tuple(f.name for f in fields(BusinessConfig)),
    "last": ("date", "kind", "text"),
    "closure": ("from", "to", "reason", "reopens", "last_open"),
    "occasion": ("name", "date"),
    "contact": ("name", "first_name"),
}
NAMES = tuple(sorted({f.key for f in FIELDS} | set(CONTEXT_NAMES) | set(EVENT_NAMES)))
_KIND = re.compile(r"^[a-z][\w-]*$")


class TemplateError(CrmError):
    """A template that cannot be used: ``path:line: message`` (``problem`` for ``crm check``)."""

    def __init__(self, location: Location, message: str) -> None:
        super().__init__(f"{location}: {message}", exit_code=2)
        self.problem = Problem(location, message)


@dataclass(frozen=True, slots=True)
class Template:
    """A message template, checked: every name it uses is one a customer can have."""

    name: str
    path: Path
    kind: str
    channel: str
    subject: str | None
    topic: str | None
    audience: Mapping[str, Any]
    log: str | None
    nameless: bool
    greet_organisations: bool  # an organisation with no contact person is greeted by its name
    language: str | None  # the language of its words (a variant's is its file name's)
    kind_line: int  # where the front matter says the kind (1 when it does not)
    body: jinja2.Template
    subject_template: jinja2.Template | None
    has_gap: bool
    keys: frozenset[str]  # the front matter keys the file sets
    events: frozenset[str] = frozenset()  # which of EVENT_NAMES it uses (a closure's message)
    # The same message in other languages (``holiday.de.md``), by language code.
    variants: tuple[tuple[str, Template], ...] = ()
    offsets: tuple[int, int] = (0, 0)  # the file lines before the body's and the subject's

    def for_language(self, language: str | None) -> Template:
        """Return the variant in ``language`` (``pt-BR``, else ``pt``), else this template."""
        if not language or not self.variants:
            return self
        found = dict(self.variants)
        code = language.replace("_", "-").casefold()
        return found.get(code) or found.get(code.split("-")[0]) or self


class Missing(jinja2.StrictUndefined):
    """An undefined value whose message names it as the template wrote it: 'missing me.phone'."""

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:  # the sandbox's "access to attribute ... is unsafe"
            return self._undefined_hint
        name = self._undefined_name
        owner = self._undefined_obj
        if isinstance(owner, Fields):
            return f"missing {owner.__dict__['_fields_of']}.{name}"
        return f"missing {name}"


class Fields:
    """Named values a template reads as ``me.name`` or ``me["name"]``; it knows its own name.

    Only the values are attributes (no dict methods shadow a key such as ``label``), and the
    sandbox never reads the underscored name.
    """

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)
        object.__setattr__(self, "_fields_of", label)

    def __getitem__(self, key: str) -> Any:
        if key.startswith("_"):
            raise KeyError(key)
        return self.__dict__[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and not key.startswith("_") and key in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.__dict__ if not k.startswith("_"))

    def __str__(self) -> str:
        return str(self.__dict__.get("text", ""))


def environment() -> LimitedEnvironment:
    """Return the sandbox every template renders in (with the limits of ``limits.py``), with
    the ``date`` filter."""
    env = LimitedEnvironment(
        undefined=Missing,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.add_filter("date", date_filter)
    return env


def folder(root: Path) -> Path:
    return root / TEMPLATE_FOLDER


def available(root: Path) -> list[str]:
    """Return the names of the vault's message templates, sorted."""
    found = folder(root).glob("*.md") if folder(root).is_dir() else ()
    return sorted(p.stem for p in found if "." not in p.stem)


def load_template(root: Path, name: str) -> Template:
    """Return the checked template ``name`` (a name in ``templates/messages/`` or a path),
    with its variants in other languages (``NAME.de.md`` beside ``NAME.md``)."""
    path = Path(name) if name.endswith(".md") else folder(root) / f"{name}.md"
    base = _read(root, path, name)
    variants = []
    for other in sorted(path.parent.glob(f"{glob.escape(path.stem)}.*.md")):
        language = other.name[len(path.stem) + 1 : -3].casefold()
        if re.fullmatch(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*", language):
            variant = _read(root, other, other.name)
            for key in variant.keys - VARIANT_KEYS:
                if getattr(variant, key) != getattr(base, key):
                    raise TemplateError(
                        Location(other, 1),
                        f"a language variant sets only subject and the message; {key} comes "
                        f"from {path.name}",
                    )
            variants.append((language, replace(variant, language=language)))
    return replace(base, variants=tuple(variants))


def _read(root: Path, path: Path, name: str) -> Template:
    """Return the template in ``path`` (``name`` as the command line gave it)."""
    try:
        text = read_regular(path).decode("utf-8-sig")
    except FileNotFoundError:
        names = available(root)
        hint = f"; the vault has {', '.join(names)}" if names else f"; write one in {folder(root)}"
        raise CrmError(f"no message template {name!r}{hint}", exit_code=2) from None
    except OSError as exc:
        raise TemplateError(
            Location(path), f"cannot read the template: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise TemplateError(Location(path), f"cannot read the template: {exc}") from None
    return parse_template(path, text.replace("\r\n", "\n"))


def check_templates(root: Path, kinds: Kinds) -> list[Problem]:
    """Return the problems of every message template of the vault (for ``crm check``)."""
    found = []
    paths = sorted(folder(root).glob("*.md")) if folder(root).is_dir() else []
    for path in paths:  # each file on its own, variants too
        try:
            _read(root, path, path.name)
        except TemplateError as exc:
            found.append(exc.problem)
    broken = {p.location.path.name.split(".")[0] for p in found}
    for path in paths:  # then each template with its variants
        if "." not in path.stem and path.stem not in broken:
            try:
                note_kind(load_template(root, str(path)), kinds)
            except TemplateError as exc:
                found.append(exc.problem)
    return sorted(found, key=lambda p: (str(p.location.path), p.location.line or 0))


def template_words(root: Path) -> list[str]:
    """Return the topics and kinds of the vault's message templates (a broken one is skipped:
    ``check_templates`` names it)."""
    words: list[str] = []
    for name in available(root):
        try:
            t = _read(root, folder(root) / f"{name}.md", name)
        except CrmError:
            continue
        words.extend(w for w in (t.topic, t.kind) if w and w not in words)
    return words


def note_kind(template: Template, kinds: Kinds) -> None:
    """Refuse a template whose kind is a note or inbound: a message sent always counts as
    outreach (and an inbound kind says it came from the customer)."""
    cls = kinds.class_of(template.kind)
    if cls in ("note", "inbound"):
        article = "an" if cls == "inbound" else "a"
        raise TemplateError(
            Location(template.path, template.kind_line),
            f"kind {template.kind!r} is {article} {cls} in [kinds]: a message you send always counts as "
            "outreach, so give it a contact or broadcast kind",
        )


def parse_template(path: Path, text: str) -> Template:
    """Return the template of ``text`` (read from ``path``); raise ``TemplateError`` when bad."""

    def fail(line: int | None, message: str) -> TemplateError:
        return TemplateError(Location(path, line), message)

    front, body, offset = _split(text)
    try:
        meta_ = yaml.safe_load(front) if front.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise fail(mark.line + 2 if mark else 1, f"front matter is not YAML: {exc}") from None
    if not isinstance(meta_, dict):
        raise fail(1, "the front matter must be a mapping of keys (kind, channel, subject, ...)")
    for key in meta_:
        if key not in KEYS:
            raise fail(_line_of(front, str(key)), f"unknown key {key!r}{_closest(str(key), KEYS)}")
    kind = str(meta_.get("kind") or "message").strip().lower()
    if not _KIND.match(kind):
        raise fail(_line_of(front, "kind"), f"kind {kind!r} is not one word such as greeting")
    channel = str(meta_.get("channel") or "any").strip().lower()
    if channel not in CHANNELS:
        raise fail(_line_of(front, "channel"), f"channel must be one of {', '.join(CHANNELS)}")
    audience = meta_.get("audience") or {}
    if not isinstance(audience, dict):
        raise fail(_line_of(front, "audience"), "audience must be a mapping such as {tag: vip}")
    for key, value in audience.items():
        if key not in AUDIENCE_KEYS:
            hint = _closest(str(key), AUDIENCE_KEYS)
            raise fail(_line_of(front, str(key)), f"unknown audience key {key!r}{hint}")
        if key == "report" and value not in REPORTS:
            raise fail(_line_of(front, "report"), f"report must be one of {', '.join(REPORTS)}")
        texts = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not isinstance(value, str) and not (key == "tag" and texts):
            what = "text or a list of text" if key == "tag" else "text"
            raise fail(_line_of(front, str(key)), f"audience {key} must be {what}")
    for word in IMPERSONAL:
        if folded(word) in folded(text):
            line = next(n for n, s in enumerate(text.split("\n"), 1) if folded(word) in folded(s))
            raise fail(
                line, f"'{word}' is no greeting: greet each person by name ({{{{ hello }}}})"
            )
    env = environment()
    subject = meta_.get("subject")
    subject = None if subject is None else str(subject)
    offsets = (offset, _line_of(front, "subject") - 1)
    compiled = [_compiled(env, body, offsets[0], fail)]
    if subject is not None:
        compiled.append(_compiled(env, subject, offsets[1], fail))
    return Template(
        name=path.stem,
        path=path,
        kind=kind,
        channel=channel,
        subject=subject,
        topic=_text(meta_.get("topic")),
        audience=audience,
        log=_text(meta_.get("log")),
        nameless=meta_.get("nameless") is True,
        greet_organisations=meta_.get("greet_organisations") is True,
        language=_text(meta_.get("language")),
        kind_line=_line_of(front, "kind"),
        body=compiled[0],
        subject_template=compiled[1] if subject is not None else None,
        has_gap=GAP in body,
        keys=frozenset(str(k) for k in meta_),
        events=frozenset(
            name
            for source in (body, subject or "")
            for name in meta.find_undeclared_variables(env.parse(source))
            if name in EVENT_NAMES
        ),
        offsets=offsets,
    )


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _split(text: str) -> tuple[str, str, int]:
    """Return (front matter, body, lines before the body); a file without fences is all body."""
    lines = text.split("\n")
    end = front_matter_end(lines)
    if isinstance(end, str):
        return "", text, 0
    return "\n".join(lines[1:end]), "\n".join(lines[end + 1 :]), end + 1


def _line_of(front: str, key: str) -> int:
    """Return the file line of the front matter line that sets ``key`` (1 when not found)."""
    for n, line in enumerate(front.split("\n"), 2):
        if re.match(rf"\s*{re.escape(key)}\s*:", line):
            return n
    return 1


def _closest(name: str, names: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _compiled(env: LimitedEnvironment, source: str, offset: int, fail: Any) -> jinja2.Template:
    """Return ``source`` compiled, after checking that it names only what a customer has."""
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise fail((exc.lineno or 1) + offset, exc.message or "bad template syntax") from None
    free = meta.find_undeclared_variables(tree)
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in free and node.name not in NAMES:
            hint = _closest(node.name, NAMES)
            raise fail(node.lineno + offset, f"unknown field {node.name!r}{hint}")
    for other in tree.find_all((nodes.Include, nodes.Extends, nodes.Import, nodes.FromImport)):
        raise fail(other.lineno + offset, "a message template cannot include or import files")
    for item in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(item, nodes.Getattr):
            owner, attr = item.node, item.attr
        elif isinstance(item, nodes.Getitem) and isinstance(item.arg, nodes.Const):
            owner, attr = item.node, item.arg.value
        else:
            continue
        if isinstance(owner, nodes.Name) and owner.name in ATTRIBUTES and owner.name in free:
            known = ATTRIBUTES[owner.name]
            if attr not in known:
                hint = _closest(str(attr), known)
                raise fail(item.lineno + offset, f"unknown field '{owner.name}.{attr}'{hint}")
    return env.from_string(limited(tree, env))
