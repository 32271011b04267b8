"""What one message may cost: time, size and memory, checked as a template renders.

A template is a shared file, and Jinja2's sandbox keeps it from running code but not from
building ``{{ 'x' * 10**9 }}`` or looping ``range(100000)`` inside ``range(100000)``. Every step
that can make a big value from small ones (an operator, ``~``, a filter, a method, the buffer of a
block, a printed list) is estimated before it is taken and refused over ``MAX_TEXT``; every value
a message builds counts towards ``MAX_BUILT``, which bounds its memory; each loop step and each
call checks the deadline. The rest of the sandbox (``sandbox.py``) calls these.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence, Set, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from numbers import Number
from typing import Any, cast

import jinja2
from jinja2.utils import Namespace

MAX_TEXT = 64 * 1024  # characters (or digits) of any one value a template builds or prints
MAX_MESSAGE = 64 * 1024  # characters of a rendered body (and of a subject)
MAX_BUILT = 1024 * 1024  # characters of everything one message builds: its memory
MAX_SECONDS = 2.0  # how long one message may take to render
MAX_RANGE = 100_000  # numbers in a range(), as Jinja2's sandbox allows
MAX_DEPTH = 100  # lists inside lists
TEMPLATE_FILE = "<template>"  # the file name Jinja2 gives a template's frames

_PERCENT = re.compile(r"%(?:\([^)]*\))?([^%a-zA-Z]*)[a-zA-Z%]")
_NUMBER = re.compile(r"\d+")
# A format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?", re.DOTALL)
_SEQUENCE = (str, bytes, list, tuple)  # what * repeats and + joins


class LimitExceeded(Exception):
    """A template went past a limit; ``reason`` says which (``too big: ...``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Meter:
    """What one message has spent: its deadline, and the characters it built."""

    deadline: float
    built: int = 0


_METER: ContextVar[Meter | None] = ContextVar("crm_template_meter", default=None)


@contextmanager
def metered() -> Iterator[None]:
    """Give the message rendered inside a fresh budget of ``MAX_SECONDS`` and ``MAX_BUILT``."""
    token = _METER.set(Meter(time.monotonic() + MAX_SECONDS))
    try:
        yield
    finally:
        _METER.reset(token)


def tick() -> None:
    """Raise ``LimitExceeded`` once the message being rendered is past its deadline."""
    meter = _METER.get()
    if meter is not None and time.monotonic() > meter.deadline:
        raise _too_slow()


def _too_slow() -> LimitExceeded:
    return LimitExceeded(f"too slow: the message takes over {MAX_SECONDS:g} seconds")


def allow(size: int, value: object) -> None:
    """Refuse to build a value like ``value`` of ``size`` characters when over ``MAX_TEXT``."""
    if size > MAX_TEXT:
        raise LimitExceeded(f"too big: {_what(size, value)}, over the limit of {MAX_TEXT:,}")


def spend(size: int) -> None:
    """Count ``size`` characters built towards the message's ``MAX_BUILT``; watch the deadline."""
    meter = _METER.get()
    if meter is None:
        return
    meter.built += size
    if meter.built > MAX_BUILT:
        raise LimitExceeded(f"too big: the message builds over {MAX_BUILT:,} characters in all")
    if time.monotonic() > meter.deadline:
        raise _too_slow()


def checked(value: Any) -> Any:
    """Return ``value`` once it is small enough, counted as built."""
    size = len(value) if type(value) is str else text_size(value)
    allow(size, value)
    spend(size)
    return value


def _what(size: int, value: object) -> str:
    if isinstance(value, str | bytes):
        return f"a text of {size:,} characters"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"a number of {size:,} digits"
    return f"a value that prints as about {size:,} characters"


def text_size(value: object) -> int:
    """Return about how many characters ``value`` prints as, without printing it.

    A list counts each item as often as it holds it (so shared items that print many times
    count many times); a list holding itself prints ``[...]`` there.
    """
    return _size(value, {}, 0)


def _size(value: object, seen: dict[int, int], depth: int) -> int:
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, int):
        return digits(value)
    if value is None or isinstance(value, float | jinja2.Undefined):
        return 24
    parts = _parts(value)
    if parts is None:
        return 64  # a date, a macro, a loop: a short text
    key = id(value)
    if key in seen:
        return seen[key]
    if depth > MAX_DEPTH:
        raise LimitExceeded(f"too deep: lists inside lists over {MAX_DEPTH} levels")
    seen[key] = 5  # while counting it: where it holds itself it prints [...]
    total = 2
    for part in parts:
        total += _size(part, seen, depth + 1) + 4  # quotes and a comma
        if total > MAX_TEXT:
            break  # enough to refuse it
    seen[key] = total
    return total


def _parts(value: object) -> Iterable[object] | None:
    """Return what a container prints (a mapping: keys and values); None for anything else."""
    if isinstance(value, Mapping):
        return (part for pair in value.items() for part in pair)
    if isinstance(value, Namespace):
        return _parts(object.__getattribute__(value, "_Namespace__attrs"))
    if isinstance(value, Sequence | Set | ValuesView) and not isinstance(value, range):
        return iter(value)
    return None


def indented_size(value: object, indent: int) -> int:
    """Return about how many characters indenting ``value`` as JSON adds: a line for each
    item, indented ``indent`` for each level it is inside (stops counting past ``MAX_TEXT``)."""
    total = 0
    stack = [(value, 1)]
    while stack and total <= MAX_TEXT:
        item, depth = stack.pop()
        parts = None if isinstance(item, str | bytes) else _parts(item)
        for part in parts or ():
            total += 1 + indent * depth
            stack.append((part, depth + 1))
    return total


def digits(number: int) -> int:
    """Return about how many digits ``number`` prints as."""
    bits = abs(number).bit_length()
    return 1 if bits < 4 else bits * 30103 // 100000 + 2


def take(items: Iterable[Any]) -> list[Any]:
    """Return the items of an iterator as a list, refusing it as it grows past ``MAX_TEXT``."""
    found: list[Any] = []
    total = 2
    for item in items:
        tick()
        total += text_size(item) + 4
        allow(total, found)
        found.append(item)
    return found


def power_digits(base: int, exponent: int) -> int:
    """Return how many digits ``base ** exponent`` has (``exponent`` > 0, ``|base|`` > 1)."""
    if exponent < 2**53:
        return int(exponent * math.log10(abs(base))) + 1
    return exponent * (abs(base).bit_length() - 1) * 30103 // 100000 + 1


def binop_size(operator: str, left: Any, right: Any) -> int | None:
    """Return about how many characters ``left operator right`` prints as; None when it cannot
    grow past its operands (or is no operation a template can make big)."""
    if operator == "*":
        if isinstance(left, int) and isinstance(right, _SEQUENCE):
            left, right = right, left
        if isinstance(left, _SEQUENCE) and isinstance(right, int):
            return text_size(left) * max(right, 0)
        if isinstance(left, int) and isinstance(right, int):
            return digits(left) + digits(right)
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        return power_digits(left, right) if right > 1 and abs(left) > 1 else None
    if operator == "+" and isinstance(left, _SEQUENCE) and isinstance(right, _SEQUENCE):
        return text_size(left) + text_size(right)
    if operator == "%" and isinstance(left, str):
        return percent_size(left, right)
    return None


def percent_size(pattern: str, args: Any) -> int:
    """Return about how long ``pattern % args`` is: every field as long as the longest value,
    plus every width and precision the pattern (or ``*``) asks for."""
    specs = _PERCENT.findall(pattern)
    if isinstance(args, Mapping):
        values = list(args.values())
    else:
        values = list(args) if isinstance(args, tuple) else [args]
    widest = max((text_size(v) for v in values), default=0)
    padding = sum(int(n) for spec in specs for n in _NUMBER.findall(spec))
    if any("*" in spec for spec in specs):
        padding += sum(abs(v) for v in values if isinstance(v, int))
    return len(pattern) + len(specs) * widest + padding


def field_size(value: object, spec: str) -> int:
    """Return about how long ``format(value, spec)`` is, from the spec as Python resolved it:
    the value printed, plus the width and the precision the spec asks for."""
    size = text_size(value)
    if not spec:
        return size
    found = _SPEC.fullmatch(spec)
    width, precision = ("", "") if found is None else found.groups(default="")
    size += _count(width)
    if not isinstance(value, str):  # a text's precision cuts it; a number's adds digits
        size += _count(precision)
    if not isinstance(value, str | Number):
        size += len(spec) * 12  # a date's spec is its pattern: no code prints over a dozen
    return size


def _count(digits: str) -> int:
    # Over 30 digits Python refuses the spec itself ("Too many decimal digits").
    return int(digits) if 0 < len(digits) < 30 else 0


def replace_size(text: object, old: object, new: object, count: object) -> int:
    """Return about how long ``text.replace(old, new, count)`` is."""
    size = text_size(text)
    if isinstance(text, str) and isinstance(old, str):
        times = text.count(old)  # an empty old is found between every two characters
    elif isinstance(text, bytes) and isinstance(old, bytes):
        times = text.count(old)
    else:
        times = size + 1
    if isinstance(count, int) and count >= 0:
        times = min(count, times)
    return size + times * max(text_size(new) - text_size(old), 0)


def render_text(template: jinja2.Template, names: Mapping[str, Any]) -> str:
    """Return ``template`` rendered with ``names``; raise ``LimitExceeded`` (at the template's
    line, see ``template_line``) when the text grows past ``MAX_MESSAGE``."""
    stream = cast(Generator[str, None, None], template.generate(names))
    pieces = []
    total = 0
    for piece in stream:
        total += len(piece)
        if total > MAX_MESSAGE:
            # Raised where the template is, so that the error names its line.
            stream.throw(LimitExceeded(f"too long: the message is over {MAX_MESSAGE:,} characters"))
        pieces.append(piece)
    return "".join(pieces)


def template_line(exc: BaseException) -> int | None:
    """Return the template line where ``exc`` was raised (innermost), None when unknown."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
