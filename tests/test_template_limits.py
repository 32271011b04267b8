"""Template limits: a message that would be too big or too slow is a template error at its line,
and nothing is written (``crm.outreach.limits``)."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import icalendar
import pytest
from click.testing import CliRunner, Result

from crm.cli import main
from crm.outreach import limits, sandbox
from tests.conftest import WriteVault

DAY = "2026-12-15"
HEAD = "---\nkind: offer\nsubject: An offer\n---\nHi {{ hello }},\n"  # the body goes on at line 6


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--vault", str(root), *args])


def person(name: str, front: str = "") -> str:
    first = name.split()[0]
    return (
        f"---\nname: {name}\nfirst_name: {first}\nemail: {first.lower()}@example.com\n{front}---\n"
    )


def vault(write_vault: WriteVault, body: str, head: str = HEAD) -> Path:
    return write_vault(
        {
            "templates/messages/t.md": head + body,
            "ada.md": person("Ada Lind"),
            "zed.md": person("Zed Ott"),
        }
    )


def refused(root: Path, line: int, message: str) -> None:
    """Assert that ``crm draft t`` stops at ``line`` with ``message``, and wrote nothing."""
    result = run(root, "draft", "t", "--today", DAY)
    assert (result.exit_code, result.output) == (
        2,
        f"crm: {root}/templates/messages/t.md:{line}: {message}\n",
    )
    assert not (root / "outbox").exists()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 'x' * 10**9 }}\n", "too big: a text of 1,000,000,000 characters"),
        ("{{ 10 ** (10 ** 10) }}\n", "too big: a number of 10,000,000,001 digits"),
        (
            "{% set ns = namespace(s='x') %}\n"
            "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}\n",
            "too big: a text of 131,072 characters",
        ),
        ("{{ 'x' | center(10**9) }}\n", "too big: a text of 1,000,000,000 characters"),
        ("{{ 'x' | center(1000000000) }}\n", "too big: a text of 1,000,000,000 characters"),
        ("{{ '%0999999999d' % 1 }}\n", "too big: a text of 1,000,000,012 characters"),
        ("{{ '{:>999999999}'.format(1) }}\n", "too big: a text of 1,000,000,013 characters"),
        ("{{ 'x'.ljust(10**9) }}\n", "too big: a text of 1,000,000,000 characters"),
        ("{{ ('-' * 60000) | replace('', 'ab') }}\n", "too big: a text of 180,002 characters"),
        (
            "{{ [1] | batch(10**9, 'x') | list }}\n",
            "too big: a value that prints as about 5,000,000,000 characters",
        ),
        ("{{ lipsum(10**6) }}\n", "too big: a text of 1,200,000,000 characters"),
        # A width or precision from a value is checked as Python resolved it.
        (
            "{{ '{:>{}}'.format('x', '2900000000') }}\n",
            "too big: a text of 2,900,000,017 characters",
        ),
        (
            "{{ '{1:>{0[0]}}'.format([2900000000], 'x') }}\n",
            "too big: a text of 2,900,000,023 characters",
        ),
        (
            "{{ '{a:>{w}}'.format_map({'a': 'x', 'w': '2900000000'}) }}\n",
            "too big: a text of 2,900,000,019 characters",
        ),
        ("{{ '{:.999999999f}'.format(1.5) }}\n", "too big: a text of 1,000,000,037 characters"),
        ("{{ ('{:>60000}' * 3).format(1, 2, 3) }}\n", "too big: a text of 120,029 characters"),
        (
            "{{ '{!r}'.format(['x' * 20000] * 4) }}\n",
            "too big: a value that prints as about 80,024 characters",
        ),
        ("{{ [[1, 2], [3]] | tojson(indent=10**6) }}\n", "too big: a text of 2,000,031 characters"),
    ],
)
def test_a_value_too_big_is_refused_before_it_is_built(
    write_vault: WriteVault, body: str, message: str
) -> None:
    root = vault(write_vault, body)
    before = peak_mib()
    line = 6 + body.count("\n") - 1
    refused(root, line, f"{message}, over the limit of 65,536")
    assert peak_mib() - before < 100  # never built, not even for a moment


def test_a_range_over_the_sandboxs_limit_is_refused(write_vault: WriteVault) -> None:
    root = vault(write_vault, "{% for i in range(10**9) %}{% endfor %}\n")
    refused(root, 6, "too big: a range of 1,000,000,000 numbers, over the limit of 100,000")


def test_a_list_that_would_print_too_big_is_refused(write_vault: WriteVault) -> None:
    # Each list holds the one before ten times: a few lines of template, 600 MB of text.
    lists = "".join(f"{{% set l{n + 1} = [{', '.join([f'l{n}'] * 10)}] %}}\n" for n in range(4))
    root = vault(write_vault, "{% set l0 = 'x' * 60000 %}\n" + lists + "{{ l4 }}\n")
    refused(
        root,
        11,
        "too big: a value that prints as about 120,028 characters, over the limit of 65,536",
    )


def test_too_long_a_message_stops_at_the_line_that_makes_it_so(write_vault: WriteVault) -> None:
    root = vault(write_vault, "{% for i in range(100000) %}\n{{ 'x' * 1000 }}\n{% endfor %}\n")
    refused(root, 7, "too long: the message is over 65,536 characters")


def test_what_a_message_builds_in_all_is_its_memory(write_vault: WriteVault) -> None:
    # Each text is short enough, but a block keeps them all until it ends.
    body = "{% set kept %}\n{% for i in range(100000) %}{{ ('y' * 60000) ~ i }}{% endfor %}\n{% endset %}\n"
    root = vault(write_vault, body)
    refused(root, 7, "too big: the message builds over 1,048,576 characters in all")


def test_loops_that_print_nothing_stop_at_the_deadline(write_vault: WriteVault) -> None:
    body = "{% for i in range(100000) %}\n{% for j in range(100000) %}{% endfor %}\n{% endfor %}\n"
    root = vault(write_vault, body)
    started = time.monotonic()
    refused(root, 7, "too slow: the message takes over 2 seconds")
    assert limits.MAX_SECONDS <= time.monotonic() - started < limits.MAX_SECONDS + 8


def test_lazy_filters_stop_at_the_deadline(write_vault: WriteVault) -> None:
    # Each item makes 9,000 comparisons that print nothing: 17 seconds unwatched.
    body = "{{ range(100000) | select('in', ['a'] * 9000) | first }}\n"
    root = vault(write_vault, body)
    started = time.monotonic()
    refused(root, 6, "too slow: the message takes over 2 seconds")
    assert limits.MAX_SECONDS <= time.monotonic() - started < limits.MAX_SECONDS + 8


def test_a_template_that_recurses_too_deep_is_refused_at_its_line(
    write_vault: WriteVault,
) -> None:
    body = "{% macro m(n) %}\n{{ m(n + 1) }}\n{% endmacro %}\n{{ m(0) }}\n"
    refused(vault(write_vault, body), 7, "too deep: calls inside calls past Python's limit")


def test_running_out_of_memory_is_a_template_error_at_its_line(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhausted(*args: int) -> range:
        raise MemoryError

    monkeypatch.setattr(sandbox, "safe_range", exhausted)
    root = vault(write_vault, "{{ 'x' }}\n{{ range(3) | list }}\n")
    refused(root, 7, "too big: ran out of memory")


def test_an_error_without_a_message_is_held_with_its_name(
    write_vault: WriteVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: int) -> range:
        raise ValueError

    monkeypatch.setattr(sandbox, "safe_range", failing)
    root = vault(write_vault, "{{ range(3) | list }}\n")
    result = run(root, "draft", "t", "--today", DAY, "--explain", "--dry-run", "--to", "ada")
    assert result.output.splitlines()[1] == (
        "  held   Ada Lind (ada): template needs a value (cannot render: ValueError)"
    )


def test_estimates_let_through_what_fits(write_vault: WriteVault) -> None:
    # wordwrap puts its line breaks where the spaces were; replace counts what it finds.
    body = (
        "{{ ('x ' * 32000) | wordwrap(1) | length }}\n"
        "{{ ('-' * 60000 ~ 'a') | replace('a', 'bbbb', 100000) | length }}\n"
        "{{ '{:>4}|{:%Y-%m}|{:,}|{:.2f}|{:.1}'.format('b', today, 1234567, 2.5, 'xyz') }}\n"
        "{{ [[1], {'a': 2}] | tojson(indent=1) | length }}\n"
    )
    root = vault(write_vault, body)
    assert run(root, "draft", "t", "--today", DAY, "--to", "ada").exit_code == 0
    draft = root / "outbox" / f"t-{DAY}" / "ada.md"
    assert draft.read_text(encoding="utf-8").split("---\n")[-1] == (
        "Hi Ada,\n63999\n60004\n   b|2026-12|1,234,567|2.50|x\n29\n"
    )


def test_the_error_names_the_line_inside_a_macro_and_of_the_subject(
    write_vault: WriteVault,
) -> None:
    macro = "{% macro m(n) %}\n{{ 'x' * n }}\n{% endmacro %}\n\n{{ m(10**9) }}\n"
    refused(
        vault(write_vault, macro),
        7,
        "too big: a text of 1,000,000,000 characters, over the limit of 65,536",
    )
    subject = "---\nkind: offer\nsubject: Hi {{ 'x' * 10**9 }}\n---\n"
    refused(
        vault(write_vault, "Hi {{ hello }}\n", subject),
        3,
        "too big: a text of 1,000,000,000 characters, over the limit of 65,536",
    )


def test_one_message_over_the_limit_stops_the_run_before_any_draft(
    write_vault: WriteVault,
) -> None:
    # Ada's message is fine, and comes first; Zed's is not: nobody gets a draft.
    body = "{{ 'x' * (10**9 if first_name == 'Zed' else 3) }}\n"
    root = vault(write_vault, body)
    alone = run(root, "draft", "t", "--today", DAY, "--dry-run", "--to", "ada")
    assert alone.output == f"t-{DAY}: 1 draft\nDry run: nothing written.\n"
    refused(root, 6, "too big: a text of 1,000,000,000 characters, over the limit of 65,536")


def test_jinja2_reads_a_power_of_a_power_left_to_right(write_vault: WriteVault) -> None:
    # 10**10**10 is (10**10)**10 in Jinja2: a number of 101 digits, well inside the limit.
    root = vault(write_vault, "{{ 10**10**10 }}\n")
    assert run(root, "draft", "t", "--today", DAY, "--to", "ada").exit_code == 0
    draft = root / "outbox" / f"t-{DAY}" / "ada.md"
    assert draft.read_text(encoding="utf-8").endswith(f"Hi Ada,\n1{'0' * 100}\n")


def test_loops_macros_blocks_and_filters_render_as_before(write_vault: WriteVault) -> None:
    # What Jinja2's own sandbox renders (trim_blocks eats the newline after a block tag).
    body = (
        "{% macro item(x) %}<{{ x ~ '!' }}>{% endmacro %}\n"
        "{% macro box() %}[{{ caller() }}]{% endmacro %}\n"
        "{% for x in [3, 1, 2] | sort if x > 1 %}{{ loop.index }}/{{ loop.length }}"
        "{{ item(x) }}{% else %}none{% endfor %}\n"
        "{% set block %}{{ 'ab' * 2 }}{{ [1] + [2] }}{% endset %}{{ block | upper }}\n"
        "{% call box() %}in{% endcall %} {{ '%s-%03d' % ('a', 7) }} {{ '{:>4}'.format('b') }}\n"
        "{{ 'x' | center(5) }}|{{ range(3) | map('string') | join(',') }}|{{ 2 ** 10 }}\n"
    )
    root = vault(write_vault, body)
    assert run(root, "draft", "t", "--today", DAY, "--to", "ada").exit_code == 0
    draft = root / "outbox" / f"t-{DAY}" / "ada.md"
    assert draft.read_text(encoding="utf-8").split("---\n")[-1] == (
        "Hi Ada,\n1/2<2!>2/2<3!>ABAB[1, 2]\n[in] a-007    b\n  x  |0,1,2|1024\n"
    )


def test_the_feed_leaves_out_a_message_over_the_limit(write_vault: WriteVault) -> None:
    template = "---\nkind: greeting\n---\nHappy birthday, {{ hello }}!{{ 'x' * 10**9 }}\n"
    root = write_vault(
        {
            "crm.toml": "[feed]\ndrafts = true\n",
            "templates/messages/birthday.md": template,
            "ada.md": person("Ada Lind", "birthday: 1990-12-20\n"),
            "bo.md": person("Bo Berg", "birthday: 1985-12-21\n"),
        }
    )
    result = run(root, "ics", "--today", "2026-12-01")
    assert result.exit_code == 0, result.output
    events = icalendar.Calendar.from_ical(result.stdout_bytes).walk("VEVENT")
    uids = ("birthday-ada-2026@crm", "birthday-bo-2026@crm")
    birthdays = [e for e in events if str(e["UID"]) in uids]
    assert len(birthdays) == 2 and not any("DESCRIPTION" in e for e in birthdays)


def test_the_limits_are_the_documented_ones() -> None:
    assert (limits.MAX_TEXT, limits.MAX_MESSAGE, limits.MAX_BUILT, limits.MAX_SECONDS) == (
        65536,
        65536,
        1048576,
        2.0,
    )
    docs = (Path(__file__).parent.parent / "docs" / "outreach.md").read_text(encoding="utf-8")
    for said in ("65,536 characters", "1 MiB", "2 seconds", "100,000 numbers"):
        assert said in docs
