"""The fast front-matter reader returns exactly what the project's PyYAML loader returns, or None."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crm.vault import fastyaml, parse
from tests.conftest import EXAMPLE

# Characters that matter to YAML, plus ordinary and non-ASCII text.
TRICKY = list(" :#-[]{},&*!|>'\"%@`?~\\\t\xa0\x85\u2028\ufeffé€😀") + list("abcxyz019_.+/")
words = st.text(alphabet=st.sampled_from(TRICKY), max_size=12)
keys = st.one_of(
    st.sampled_from(["name", "email", "tags", "away", "dates", "from", "to", "label", "date"]),
    words,
)


def reference(text: str) -> Any:
    """Return what the vault's loader (PyYAML, every scalar as text) makes of ``text``."""
    return yaml.load(text, Loader=parse.yaml_loader())


def check(text: str) -> None:
    fast = fastyaml.load(text)
    if fast is None:
        return
    assert fast == reference(text), text


@st.composite
def scalars(draw: st.DrawFn) -> str:
    word = draw(words)
    style = draw(st.sampled_from(["plain", "double", "single", "flow", "spaced"]))
    if style == "double":
        return f'"{word}"'
    if style == "single":
        return f"'{word}'"
    if style == "flow":
        items = draw(st.lists(words, max_size=4))
        return "[" + draw(st.sampled_from([",", ", ", " , "])).join(items) + "]"
    if style == "spaced":
        return f"{word}  {draw(words)}  "
    return word


@st.composite
def documents(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(keys)
        shape = draw(st.sampled_from(["scalar", "empty", "list", "map", "maplist", "comment"]))
        indent = " " * draw(st.sampled_from([0, 2, 2, 4, 1]))
        if shape == "scalar":
            lines.append(f"{key}: {draw(scalars())}")
        elif shape == "empty":
            lines.append(f"{key}:{draw(st.sampled_from(['', ' ', '  ']))}")
        elif shape == "list":
            lines.append(f"{key}:")
            lines += [f"{indent}- {draw(scalars())}" for _ in range(draw(st.integers(1, 3)))]
        elif shape == "map":
            lines.append(f"{key}:")
            lines += [
                f"{indent}{draw(keys)}: {draw(scalars())}" for _ in range(draw(st.integers(1, 3)))
            ]
        elif shape == "maplist":
            lines.append(f"{key}:")
            for _ in range(draw(st.integers(1, 2))):
                lines.append(f"{indent}- {draw(keys)}: {draw(scalars())}")
                lines += [
                    f"{indent}  {draw(keys)}: {draw(scalars())}"
                    for _ in range(draw(st.integers(0, 2)))
                ]
        else:
            lines.append(f"#{draw(words)}")
        if draw(st.booleans()) and draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "  ", f"  {draw(words)}", draw(words)])))
    return "\n".join(lines)


@settings(max_examples=700, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
@example("a: 1\n\n  b")
@example("name: [?0]")
@example("name: [?>]")
@example("name: [-x, - y]")
@example("name: ?x")
@example("a: b\na: c")
@example("a:\n  - k: v\n    j: w\n  - k: 2")
def test_structured_documents_match_pyyaml(text: str) -> None:
    check(text)


@settings(max_examples=700, deadline=None)
@given(st.lists(st.sampled_from([*TRICKY, "\n", "\n", "a: ", "- ", "  "]), max_size=40))
def test_arbitrary_text_matches_pyyaml(tokens: list[str]) -> None:
    check("".join(tokens))


SAFE = st.from_regex(r"[a-zé][a-zü0-9.+@]{0,9}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "email", "phone", "company", "segment"]),
        st.one_of(SAFE, st.lists(SAFE, max_size=3)),
        min_size=1,
    )
)
def test_simple_customer_front_matter_takes_the_fast_path(fields: dict[str, Any]) -> None:
    lines = []
    for key, value in fields.items():
        lines.append(
            f"{key}: [{', '.join(value)}]" if isinstance(value, list) else f"{key}: {value}"
        )
    text = "\n".join(lines)
    assert fastyaml.load(text) == fields == reference(text)


def front_matters() -> list[Path]:
    return sorted(EXAMPLE.rglob("*.md"))


@pytest.mark.parametrize("path", front_matters(), ids=lambda p: p.name)
def test_example_vault_front_matter_takes_the_fast_path(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "{" in text:
        pytest.skip("not a customer file (or a template with {placeholders})")
    fm = text.split("\n---\n", 1)[0][4:]
    assert fastyaml.load(fm) == reference(fm)
    assert fastyaml.load(fm) is not None


@pytest.mark.parametrize(
    "text",
    [
        "notes: |\n  two\n  lines",
        "a: &x b\nc: *x",
        "a: !tag b",
        "a: b # comment",
        "a: b\na: c",
        'a: "with \\" escape"',
        "a: [x, 'y, z']",
        "a:\n  b:\n    c: d",
        "source: {system: old}",
        "a:\tb",
    ],
)
def test_unusual_yaml_falls_back(text: str) -> None:
    assert fastyaml.load(text) is None
