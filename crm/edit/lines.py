"""A customer file as lines: find a key's lines in the front matter and replace only those.

``Doc`` keeps every line with its own ending, the BOM and the file's newline style, so an edit
changes the lines it must and leaves every other byte alone. It only rewrites text; deciding
whether the result is a valid customer is the loader's job (``crm.edit.changes`` re-parses it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from crm.core.errors import CrmError
from crm.edit.yamltext import (
    double_quoted,
    flow_items,
    flow_list,
    render_scalar,
    single_quoted,
    split_value,
    unquote,
)
from crm.vault.syntax import (
    front_matter_end,
    may_hold_conflict,
    merge_conflicts,
)

_KEY_LINE = re.compile(
    r"^(?P<key>[A-Za-z_][\w-]*)(?P<sep>[ \t]*:)(?=[ \t]|$)(?P<ws>[ \t]*)(?P<rest>.*)$"
)
_ITEM_LINE = re.compile(r"^(?P<prefix>[ \t]*-(?:[ \t]+|$))(?P<rest>.*)$")
_SUB_KEY = re.compile(r"^(?P<indent>[ \t]+)(?P<key>[\w-]+)(?P<sep>[ \t]*:[ \t]*)(?P<rest>.*)$")
Shape = Literal["absent", "inline", "empty", "block-list", "block-map", "multi"]
BOM = "\ufeff"


@dataclass
class Span:
    """Where a top-level key sits: lines ``start`` (the key) to ``end`` (exclusive)."""

    start: int
    end: int
    token: str
    shape: Shape


class Doc:
    """The lines of a customer file, editable one key at a time."""

    def __init__(self, lines: list[str], *, bom: bool, fm_end: int) -> None:
        self.lines = lines
        self.bom = bom
        self.fm_end = fm_end
        first = lines[0] if lines else ""
        self.nl = "\r\n" if first.endswith("\r\n") else "\n"

    @classmethod
    def parse(cls, data: bytes) -> Doc:
        """Return the lines of ``data``; refuse a file without a closed front matter block, or
        with an unresolved merge conflict (no edit lands in the middle of one)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CrmError("not UTF-8 text; nothing written") from None
        bom = text.startswith(BOM)
        text = text.removeprefix(BOM)
        parts = text.split("\n")
        lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        # The lines without their endings, as ``content`` gives them, but no copy of each.
        bare = [p.removesuffix("\r") for p in (parts if parts[-1] else parts[:-1])]
        del parts
        if may_hold_conflict(text) and (conflicts := merge_conflicts(bare)):
            raise CrmError(f"{conflicts[0].message()}; nothing written")
        end = front_matter_end(bare)
        if isinstance(end, str):
            raise CrmError(end)
        return cls(lines, bom=bom, fm_end=end)

    @staticmethod
    def content(line: str) -> str:
        """Return ``line`` without its line ending."""
        return line.rstrip("\n").removesuffix("\r")

    def ending(self, i: int) -> str:
        """Return the line ending of line ``i`` (the file's style when it has none)."""
        line = self.lines[i]
        return line[len(self.content(line)) :] or self.nl

    def to_bytes(self) -> bytes:
        """Return the file's bytes."""
        return ((BOM if self.bom else "") + "".join(self.lines)).encode("utf-8")

    # -- front matter -------------------------------------------------------------------------

    def span(self, key: str) -> Span | None:
        """Return where ``key`` sits in the front matter, or None; refuse a key written twice."""
        found: list[Span] = []
        for i in range(1, self.fm_end):
            m = _KEY_LINE.match(self.content(self.lines[i]))
            if m and m["key"] == key:
                end = self._continuation_end(i + 1)
                token, _ = split_value(m["rest"])
                found.append(Span(i, end, token, self._shape(i, end, token)))
        if len(found) > 1:
            raise CrmError(f"{key} appears twice in the front matter; fix it with crm edit")
        return found[0] if found else None

    def key_spans(self) -> list[tuple[str, int, int]]:
        """Return ``(key, first line, line after its value)`` for every top-level key, in order."""
        found = []
        for i in range(1, self.fm_end):
            m = _KEY_LINE.match(self.content(self.lines[i]))
            if m:
                found.append((m["key"], i, self._continuation_end(i + 1)))
        return found

    def key_line_numbers(self, key: str) -> range:
        """Return the 1-based line numbers holding ``key`` (empty when absent)."""
        where = self.span(key)
        return range(where.start + 1, where.end + 1) if where else range(0)

    def _is_continuation(self, i: int) -> bool:
        text = self.content(self.lines[i])
        return bool(text.strip()) and (text[0] in " \t" or bool(re.match(r"-(\s|$)", text)))

    def _continuation_end(self, j: int) -> int:
        while j < self.fm_end:
            if self._is_continuation(j):
                j += 1
                continue
            # Blank lines and comments between a key's value lines still belong to it.
            k = j
            while k < self.fm_end and self.content(self.lines[k]).strip()[:1] in ("", "#"):
                k += 1
            if k < self.fm_end and k > j and self._is_continuation(k):
                j = k
                continue
            break
        return j

    def _shape(self, start: int, end: int, token: str) -> Shape:
        if end == start + 1:
            return "inline" if token else "empty"
        if token:
            return "multi"
        first = self.content(self.lines[start + 1])
        if _ITEM_LINE.match(first):
            return "block-list"
        return "block-map" if _SUB_KEY.match(first) else "multi"

    def _line(self, text: str, like: int) -> str:
        return text + self.ending(like)

    def _key_line(self, span: Span, token: str) -> str:
        """Return the key's first line with its value token replaced (comment kept)."""
        m = _KEY_LINE.match(self.content(self.lines[span.start]))
        assert m is not None  # the span was found by this pattern
        _, rest = split_value(m["rest"])
        ws = m["ws"] or " "
        return self._line(f"{m['key']}{m['sep']}{ws}{token}{rest}", span.start)

    def _put(self, key: str, span: Span | None, token: str) -> None:
        """Write ``key: token`` over the whole span, or as a new last front-matter line."""
        if span is None:
            self.lines.insert(self.fm_end, self._line(f"{key}: {token}", self.fm_end - 1))
            self.fm_end += 1
            return
        self.lines[span.start : span.end] = [self._key_line(span, token)]
        self.fm_end -= span.end - span.start - 1

    def set_scalar(self, key: str, value: str, *, typed: bool = False) -> None:
        """Set ``key`` to the text ``value``, keeping the old quoting style where it was quoted."""
        span = self.span(key)
        if span is not None and span.shape == "inline" and unquote(span.token) == value:
            return
        token = render_scalar(value, typed=typed)
        if span is not None and span.shape == "inline":
            if span.token.startswith('"'):
                token = double_quoted(value)
            elif span.token.startswith("'"):
                token = single_quoted(value) or token
        self._put(key, span, token)

    def items(self, key: str) -> list[tuple[str, str]]:
        """Return ``(value, token)`` for each item of the list (or single scalar) at ``key``."""
        span = self.span(key)
        if span is None or span.shape == "empty":
            return []
        if span.shape == "block-list":
            found = []
            for i in range(span.start + 1, span.end):
                m = _ITEM_LINE.match(self.content(self.lines[i]))
                if m:
                    token, _ = split_value(m["rest"])
                    found.append((unquote(token), token))
            return found
        if span.shape == "inline" and span.token.startswith("["):
            return [(unquote(t), t) for t in flow_items(span.token)]
        if span.shape == "inline":
            return [(unquote(span.token), span.token)]
        raise CrmError(f"{key} is written over several lines; change it with crm edit")

    def set_list(self, key: str, values: list[str]) -> None:
        """Set ``key`` to the list ``values``, keeping the list's style and its items' quoting."""
        span = self.span(key)
        old = dict(reversed(self.items(key))) if span is not None else {}
        if span is not None and span.shape == "block-list" and values:
            prefix = self._item_prefix(span)
            line_of: dict[str, int] = {}
            for i in range(span.start + 1, span.end):
                value, token = self._item(i)
                if token:
                    line_of.setdefault(value, i)
            new_lines = [
                self.lines[line_of[v]]
                if v in line_of
                else self._line(prefix + render_scalar(v), span.start)
                for v in values
            ]
            self.lines[span.start + 1 : span.end] = new_lines
            self.fm_end += len(new_lines) - (span.end - span.start - 1)
            return
        tokens = [old.get(v) or render_scalar(v, flow=True) for v in values]
        template = span.token if span and span.token.startswith("[") else "[]"
        new = flow_list(template, tokens)
        if span is None or span.shape != "inline" or span.token != new:
            self._put(key, span, new)

    def _item(self, i: int) -> tuple[str, str]:
        m = _ITEM_LINE.match(self.content(self.lines[i]))
        if not m:
            return "", ""
        token, _ = split_value(m["rest"])
        return unquote(token), token

    def _item_prefix(self, span: Span) -> str:
        for i in range(span.start + 1, span.end):
            if m := _ITEM_LINE.match(self.content(self.lines[i])):
                return m["prefix"] if m["prefix"].endswith((" ", "\t")) else m["prefix"] + " "
        return "- "

    def add_item(self, key: str, value: str, *, scalar_ok: bool) -> None:
        """Add ``value`` to the list at ``key`` unless it is there already."""
        span = self.span(key)
        current = self.items(key)
        if any(v == value for v, _ in current):
            return
        if span is None or span.shape == "empty":
            self._put(
                key,
                span,
                render_scalar(value) if scalar_ok else f"[{render_scalar(value, flow=True)}]",
            )
        elif span.shape == "block-list":
            last = max(
                i
                for i in range(span.start + 1, span.end)
                if _ITEM_LINE.match(self.content(self.lines[i]))
            )
            self.lines.insert(
                last + 1, self._line(self._item_prefix(span) + render_scalar(value), last)
            )
            self.fm_end += 1
        else:
            token = render_scalar(value, flow=True)
            if span.token.startswith("[") and current:
                # Insert before the bracket so the existing items keep their exact spacing.
                inner = span.token[1:-1]
                head = inner.rstrip()
                sep = "," if re.search(r",\S", inner) and not re.search(r",\s", inner) else ", "
                self._put(key, span, "[" + head + sep + token + inner[len(head) :] + "]")
            else:
                template = span.token if span.token.startswith("[") else "[]"
                self._put(key, span, flow_list(template, [t for _, t in current] + [token]))

    def remove_item(self, key: str, value: str) -> None:
        """Remove ``value`` from the list at ``key``; a single matching scalar unsets the key."""
        span = self.span(key)
        current = self.items(key)
        if span is None or not any(v == value for v, _ in current):
            return
        if span.shape == "block-list":
            keep = [
                i
                for i in range(span.start + 1, span.end)
                if self._item(i)[0] != value or not self._item(i)[1]
            ]
            if not any(self._item(i)[1] for i in keep):
                self._put(key, span, "[]")
                return
            removed = span.end - span.start - 1 - len(keep)
            self.lines[span.start + 1 : span.end] = [self.lines[i] for i in keep]
            self.fm_end -= removed
        elif span.token.startswith("["):
            self._put(key, span, flow_list(span.token, [t for v, t in current if v != value]))
        else:
            self.unset(key)

    def set_mapping(
        self, key: str, values: dict[str, str], *, typed: bool = True, replace: bool = False
    ) -> None:
        """Set ``key`` to a mapping (of dates when ``typed``); a block mapping keeps its lines.

        Otherwise the mapping is written on one line, ``{a: b}``. A sub-key the mapping does
        not name is left as it is, unless ``replace``: then a block mapping that has one is
        written anew, on one line.
        """
        span = self.span(key)
        keep_lines = span is not None and span.shape == "block-map"
        if span is not None and keep_lines and replace:
            subs = [
                _SUB_KEY.match(self.content(self.lines[i])) for i in range(span.start + 1, span.end)
            ]
            keep_lines = not any(m is not None and m["key"] not in values for m in subs)
        if span is not None and keep_lines:
            seen = set()
            for i in range(span.start + 1, span.end):
                m = _SUB_KEY.match(self.content(self.lines[i]))
                if m and m["key"] in values:
                    seen.add(m["key"])
                    token, rest = split_value(m["rest"])
                    if unquote(token) != values[m["key"]]:
                        new = render_scalar(values[m["key"]], typed=typed)
                        self.lines[i] = self._line(
                            f"{m['indent']}{m['key']}{m['sep']}{new}{rest}", i
                        )
            indent = _SUB_KEY.match(self.content(self.lines[span.start + 1]))
            for sub, value in values.items():
                if sub not in seen and indent:
                    line = f"{indent['indent']}{sub}: {render_scalar(value, typed=typed)}"
                    self.lines.insert(span.end, self._line(line, span.start))
                    self.fm_end += 1
            return
        token = (
            "{"
            + ", ".join(
                f"{k}: {render_scalar(v, typed=typed, flow=True)}" for k, v in values.items()
            )
            + "}"
        )
        if span is None or span.token != token:
            self._put(key, span, token)

    def unset(self, key: str) -> None:
        """Remove ``key`` and its value lines (comments above it stay)."""
        span = self.span(key)
        if span is not None:
            del self.lines[span.start : span.end]
            self.fm_end -= span.end - span.start
