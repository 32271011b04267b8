"""The sandbox message templates render in: Jinja2's, with the limits of ``limits.py``.

Jinja2 offers the hooks: ``intercepted_binops`` send ``* ** + %`` to ``call_binop``, method and
macro calls go through ``call``, ``finalize`` sees every printed value before it becomes text,
``concat`` joins every block's buffer, and filters are plain functions to wrap. The two steps
with no hook, ``~`` and the items of a ``for`` loop, are rewritten in the parsed template
(``limited``) as calls of this environment's ``joined`` and ``ticking``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeGuard, cast

import jinja2
from jinja2 import nodes
from jinja2.runtime import Macro, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

from crm.outreach.limits import (
    MAX_RANGE,
    LimitExceeded,
    allow,
    binop_size,
    checked,
    field_size,
    indented_size,
    percent_size,
    replace_size,
    spend,
    take,
    text_size,
    tick,
)

# Filters that only pass items on one by one: their input stays lazy.
_LAZY = frozenset({"map", "select", "reject", "selectattr", "rejectattr", "first", "batch"})
_ESTIMATED = frozenset(
    {"center", "indent", "wordwrap", "format", "replace", "join", "batch", "slice", "sum", "tojson"}
)  # the filters whose output can be much longer than their input: see _filter_size
_GROWING = frozenset({"append", "insert", "extend", "update", "setdefault"})  # of a list, a dict
_LOREM = inspect.signature(generate_lorem_ipsum)
_PASSED = ("_loop_vars", "_block_vars")  # what Jinja2 passes a call inside a loop or a block


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) else default


def _filter_size(name: str, a: Mapping[str, Any], value: Any) -> int | None:
    """Return about how long the filter ``name`` makes its output, from its arguments ``a``
    (None: no longer than its input, give or take a small factor)."""
    if name == "center":
        return max(text_size(value), _int(a.get("width"), 80))
    if name == "indent":
        width = a.get("width", 4)
        lines = value.count("\n") + 1 if isinstance(value, str) else text_size(value)
        return text_size(value) + lines * (
            _int(width) if isinstance(width, int) else text_size(width)
        )
    if name == "wordwrap":
        # A break, and each line break of the text, puts the wrap string where one space or
        # newline was (a long word cut in pieces adds a little more, counted once built).
        size, width = text_size(value), max(_int(a.get("width"), 79), 1)
        breaks = size // width + 1 + (value.count("\n") if isinstance(value, str) else 0)
        return size + breaks * max(text_size(a.get("wrapstring") or "\n") - 1, 0)
    if name == "format":
        return percent_size(str(value), a.get("kwargs") or a.get("args", ()))
    if name == "replace":
        return replace_size(value, a.get("old"), a.get("new"), a.get("count"))
    if name == "join":
        items = list(value) if isinstance(value, Iterable) else []
        return sum(text_size(i) for i in items) + len(items) * text_size(a.get("d", ""))
    if name == "batch" and a.get("fill_with") is not None:
        return _int(a.get("linecount")) * (text_size(a["fill_with"]) + 4)
    if name == "slice":
        fill = a.get("fill_with")
        return _int(a.get("slices")) * ((0 if fill is None else text_size(fill)) + 4)
    if name == "tojson" and a.get("indent") is not None:
        indent = a["indent"]
        step = indent if isinstance(indent, int) else text_size(indent)
        return text_size(value) + indented_size(value, max(step, 0))
    if name == "sum" and not isinstance(a.get("start", 0), int | float):
        return text_size(a["start"]) + sum(text_size(i) for i in value)
    return None


def limited_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Return the filter ``func`` checked: an input that would print too big, or an output
    estimated too big from its arguments (``center(10**9)``), is refused before it is built."""
    signature = inspect.signature(func)  # the sync function's, under an async variant
    at = 1 if hasattr(inspect.unwrap(func), "jinja_pass_arg") else 0  # its context comes first
    # An async variant of a filter with no context takes one to tell which to run.
    skip = 1 if hasattr(func, "jinja_pass_arg") and not at else 0
    where = skip + at  # Jinja2 passes the value filtered first, after the context

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        value = args[where] if len(args) > where else None
        if name in _LAZY and _iterable(value):
            value = ticked(value)  # each item watches the deadline, as a loop's do
            args = (*args[:where], value, *args[where + 1 :])
        elif isinstance(value, Iterator):
            value = take(value)
            args = (*args[:where], value, *args[where + 1 :])
        elif not isinstance(value, str):
            allow(text_size(value), value)  # a filter may print it
        if name in _ESTIMATED:
            try:
                bound = signature.bind(*args[skip:], **kwargs).arguments
            except TypeError:
                bound = None  # the filter says what is wrong with its arguments
            estimate = None if bound is None else _filter_size(name, bound, value)
            if estimate is not None:
                allow(estimate, [] if name in ("batch", "slice", "sum") else "")
        result = func(*args, **kwargs)
        return result if result is value else checked(result)

    return run


def _iterable(value: object) -> TypeGuard[Iterable[Any]]:
    """Tell whether a lazy filter would go through ``value`` item by item in Python."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | jinja2.Undefined)


def ticked(items: Iterable[Any]) -> Iterator[Any]:
    """Return the items of ``items`` one by one, each step watching the deadline."""
    for item in items:
        tick()
        yield item


def limited_test(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return the test ``func`` (``is odd``, ``in``), watching the deadline before it runs."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        tick()
        return func(*args, **kwargs)

    return run


def safe_range(*args: int) -> range:
    """Return ``range(*args)`` when it has at most ``MAX_RANGE`` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(
            f"too big: a range of {len(numbers):,} numbers, over the limit of {MAX_RANGE:,}"
        )
    return numbers


def _call_size(
    obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], int | None]:
    """Return the arguments to call ``obj`` with (an iterator taken into a list) and about how
    long the text it builds is (None: no longer than what it has, or not text)."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    first = args[0] if args else None
    if obj is generate_lorem_ipsum:
        try:
            lorem = _LOREM.bind(*args, **kwargs)
        except TypeError:
            return args, None  # lipsum says what is wrong with its arguments
        lorem.apply_defaults()
        words = max(_int(lorem.arguments["min"]), _int(lorem.arguments["max"]))
        return args, _int(lorem.arguments["n"]) * words * 12  # a word and a space: 12 at most
    if isinstance(owner, str | bytes):
        if name in ("center", "ljust", "rjust", "zfill"):
            return args, max(len(owner), _int(first))
        if name == "expandtabs":
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            return args, len(owner) + tabs * _int(kwargs.get("tabsize", first), 8)
        if name == "replace":
            return args, replace_size(
                owner, first, args[1] if len(args) > 1 else "", args[2] if len(args) > 2 else -1
            )
        if name == "join" and isinstance(first, Iterable):
            items = take(first)
            return (items,), text_size(items) + len(items) * len(owner)
        if name == "translate" and isinstance(first, Mapping):
            widest = max((text_size(v) for v in first.values()), default=1)
            return args, len(owner) * max(widest, 1)
    if isinstance(owner, int) and name == "to_bytes":
        return args, _int(kwargs.get("length", first), 1)
    return args, None


def _grown_size(
    obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[tuple[Any, ...], int | None]:
    """Return the arguments to call ``obj`` with and about how long the list or dict it adds to
    prints after (None: ``obj`` is no method that adds to one)."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, list | dict) or obj.__name__ not in _GROWING:
        return args, None
    if obj.__name__ == "extend" and args and not isinstance(args[0], list | tuple):
        args = (take(args[0]), *args[1:])  # a range, an iterator: count what it adds
    return args, text_size(owner) + text_size(args) + text_size(kwargs)


@functools.cache
def _limited_tables() -> tuple[Mapping[str, Callable[..., Any]], Mapping[str, Callable[..., Any]]]:
    """Return Jinja2's filters and tests, checked: wrapped once, as reading every filter's
    signature takes longer than parsing a template."""
    plain = SandboxedEnvironment()
    filters = {name: limited_filter(name, f) for name, f in plain.filters.items()}
    tests = cast(Mapping[str, Callable[..., Any]], plain.tests)  # typed as a plain function
    return filters, {name: limited_test(f) for name, f in tests.items()}


class LimitedEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox, where no step builds more than ``MAX_TEXT`` and every loop and call
    watches the deadline (see ``limits.py``)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=checked, **options)
        self.globals["range"] = safe_range
        filters, tests = _limited_tables()
        self.filters = dict(filters)
        self.tests = dict(tests)

    def add_filter(self, name: str, func: Callable[..., Any]) -> None:
        """Add the filter ``func`` as ``name``, checked as the built-in ones are."""
        self.filters[name] = limited_filter(name, func)

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        """Return ``left operator right``, refused before it is built when too big."""
        estimate = binop_size(operator, left, right)
        if estimate is not None:
            allow(estimate, right if isinstance(left, int) else left)
            spend(estimate)
        return super().call_binop(context, operator, left, right)

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Return what calling ``obj`` returns, refused when it would build too much."""
        tick()
        if isinstance(obj, Macro) or getattr(obj, "__self__", None) is self:
            return super().call(context, obj, *args, **kwargs)  # its text is checked as joined
        named = {k: v for k, v in kwargs.items() if k not in _PASSED}
        args, grown = _grown_size(obj, args, named)
        if grown is not None:
            allow(grown, [])
        args, estimate = _call_size(obj, args, named)
        if estimate is not None:
            allow(estimate, "")
        result = super().call(context, obj, *args, **kwargs)
        return result if result is None else checked(result)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Return ``str.format`` (or ``format_map``) sandboxed, each field refused before it is
        formatted when the text would grow over ``MAX_TEXT`` (``'{:>999999999}'.format(1)``)."""
        if super().wrap_str_format(value) is None:
            return None  # no str's format: Jinja2's checks say so
        pattern: str = value.__self__
        made = type(pattern)  # a Markup pattern makes Markup
        by_name = value.__name__ == "format_map"
        formatter = (
            _LimitedEscapeFormatter(self, escape=pattern.escape)
            if isinstance(pattern, Markup)
            else _LimitedFormatter(self)
        )

        @functools.wraps(value)
        def formatted(*args: Any, **kwargs: Any) -> str:
            if by_name:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                return made(formatter.vformat(pattern, (), args[0]))
            return made(formatter.vformat(pattern, args, kwargs))

        return formatted

    def concat(self, pieces: Iterable[str]) -> str:
        """Return a block's buffer as one text (a macro's, ``{% set %}``'s, ``{% filter %}``'s)."""
        found = pieces if isinstance(pieces, list) else list(pieces)
        size = sum(len(p) for p in found)
        allow(size, "")
        spend(size)
        return "".join(found)

    @jinja2.pass_eval_context
    def joined(self, eval_ctx: nodes.EvalContext, *pieces: Any) -> str:
        """Return ``a ~ b ~ c``, refused before it is built when too long."""
        size = sum(text_size(p) for p in pieces)
        allow(size, "")
        spend(size)
        return markup_join(pieces) if eval_ctx.autoescape else str_join(pieces)

    def ticking(self, items: Any) -> Ticking:
        """Return the items of a ``for`` loop, each step watching the deadline."""
        return Ticking(items)


class _LimitedFormatter(SandboxedFormatter):
    """Jinja2's formatter for ``str.format``, which sees each field's value and its format
    spec as Python resolved it (``{:>{}}``) and refuses the field before formatting it when
    the text so far would grow over ``MAX_TEXT``."""

    def __init__(self, env: jinja2.Environment, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.size = 0

    def vformat(self, format_string: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        self.size = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            allow(self.size + text_size(value), value)  # !r prints it whole
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self.size += field_size(value, str(format_spec))
        allow(self.size, "")
        return super().format_field(value, format_spec)


class _LimitedEscapeFormatter(_LimitedFormatter, SandboxedEscapeFormatter):
    """``_LimitedFormatter`` for a ``Markup`` pattern: it escapes each field."""


class Ticking:
    """A loop's items: each step checks the deadline (a loop that prints nothing stops too)."""

    __slots__ = ("items",)

    def __init__(self, items: Any) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            tick()
            yield item

    def __len__(self) -> int:
        return len(self.items)


class _Limiter(NodeTransformer):
    """Rewrites ``a ~ b`` and the items of each ``for`` loop as calls of the environment."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("joined"), node.nodes, [], None, None, lineno=node.lineno
        )

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("ticking"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node


def limited(tree: nodes.Template, env: jinja2.Environment) -> nodes.Template:
    """Return the parsed template ``tree`` with its ``~`` and loops watched (see ``_Limiter``)."""
    _Limiter().visit(tree)
    tree.set_environment(env)
    return tree
