"""OData v2 pieces the Exact Online emulator needs: literals, ``$filter``, ``$orderby``, ``$select``,
``/Date(ms)/`` values and the server's wall clock.

Contract: ``shared/vendors/connectwise-exactonline.md`` §2.4 (cited as §2.x). Values are handled in
one internal form per Edm type (type codes from ``api_catalog.json``):

* ``g`` Edm.Guid: lower-case string;  ``d`` Edm.DateTime: int milliseconds of the server's
  *wall clock* (see :class:`WallClock`);  ``i``/``l`` ints;  ``f`` float;  ``o`` bool;  ``s``/``x`` str.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1)
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TYPE_NAMES = {"s": "Edm.String", "g": "Edm.Guid", "d": "Edm.DateTime", "f": "Edm.Double", "i": "Edm.Int32",
              "l": "Edm.Int64", "o": "Edm.Boolean", "x": "Edm.Binary"}
NUMERIC = frozenset("ifl")


class ODataError(ValueError):
    """A malformed or unsupported query option: answered 400 with the Exact error body."""


# ----------------------------------------------------------------------------- wall clock & dates
def _last_sunday(year: int, month: int) -> dt.date:
    d = dt.date(year, month + 1, 1) - dt.timedelta(days=1) if month < 12 else dt.date(year, 12, 31)
    return d - dt.timedelta(days=(d.weekday() + 1) % 7)


class WallClock:
    """How ``/Date(ms)/`` values and ``datetime'…'`` filter literals relate to real instants.

    UNCERTAIN (§2.4, single source [AB]): Exact's ``/Date(ms)/`` values are the server's wall clock
    (Europe/Amsterdam, CET/CEST) written as if it were UTC, and filter literals are read in that same
    wall clock. We follow that reading by default (``mode="CET"``) and report the offset in
    ``current/Me.ServerUtcOffset``; ``mode="UTC"`` gives the other reading (values are true UTC).
    Either way a client that compares values it read with literals it sends stays consistent.
    """

    def __init__(self, mode: str = "CET") -> None:
        mode = mode.upper()
        if mode not in ("CET", "UTC"):
            raise ValueError("wall clock mode must be 'CET' or 'UTC'")
        self.mode = mode

    def offset_hours(self, utc_seconds: float) -> int:
        if self.mode == "UTC":
            return 0
        t = dt.datetime.fromtimestamp(utc_seconds, tz=UTC)
        # EU summer time: last Sunday of March 01:00 UTC .. last Sunday of October 01:00 UTC.
        start = dt.datetime.combine(_last_sunday(t.year, 3), dt.time(1), tzinfo=UTC)
        end = dt.datetime.combine(_last_sunday(t.year, 10), dt.time(1), tzinfo=UTC)
        return 2 if start <= t < end else 1

    def wall_ms(self, utc_seconds: float) -> int:
        """Wall-clock milliseconds (the ``/Date(ms)/`` number) of a real instant."""
        return int(round((utc_seconds + 3600 * self.offset_hours(utc_seconds)) * 1000))


def date_json(ms: int | None) -> str | None:
    return None if ms is None else f"/Date({ms})/"


def ms_from_naive(value: dt.datetime) -> int:
    return int((value - EPOCH).total_seconds() * 1000)


def naive_from_ms(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def iso_from_ms(ms: int) -> str:
    d = naive_from_ms(ms)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + (f".{d.microsecond // 1000:03d}" if d.microsecond else "")


_DATE_JSON_RE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_datetime_text(text: str, allow_offset: bool = True) -> int:
    """Parse ``2024-01-31[T10:00[:00[.fff]]]`` (or ``/Date(ms)/``) to wall-clock ms; ValueError if bad.

    An explicit offset/``Z`` is dropped: Edm.DateTime carries no zone (the value is taken as written).
    """
    m = _DATE_JSON_RE.match(text)
    if m:
        return int(m.group(1))
    m = _ISO_RE.match(text.strip())
    if not m or (m.group(8) and not allow_offset):
        raise ValueError(f"not a datetime: {text!r}")
    y, mo, d, hh, mm, ss, frac = m.groups()[:7]
    value = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                        int((frac or "0").ljust(6, "0")[:6]))
    return ms_from_naive(value)


# ----------------------------------------------------------------------------- tokenizer
_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|guid|time|binary|X)'(?:[^']|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[LlMmDdFf]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<punct>[(),])
""", re.X)


def tokenize(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:
            raise ODataError(f"Syntax error at position {pos} in '{text}'.")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


def parse_literal_token(kind: str, raw: str) -> tuple[str, Any]:
    """(type code, internal value) of a literal token; raises ODataError."""
    if kind == "str":
        return "s", raw[1:-1].replace("''", "'")
    if kind == "num":
        suffix = raw[-1] if raw[-1] in "LlMmDdFf" else ""
        body = raw[:-1] if suffix else raw
        if suffix in ("L", "l"):
            if not re.fullmatch(r"-?\d+", body):
                raise ODataError(f"Invalid Int64 literal '{raw}'.")
            return "l", int(body)
        if suffix or "." in body or "e" in body.lower():
            return "f", float(body)
        return "i", int(body)
    if kind == "typed":
        prefix, _, rest = raw.partition("'")
        inner = rest[:-1].replace("''", "'")
        p = prefix.lower()
        if p == "guid":
            if not GUID_RE.match(inner):
                raise ODataError(f"Unrecognized 'Edm.Guid' literal '{raw}'.")
            return "g", inner.lower()
        if p == "datetime":
            try:
                return "d", parse_datetime_text(inner, allow_offset=False)
            except ValueError:
                raise ODataError(f"Unrecognized 'Edm.DateTime' literal '{raw}'.") from None
        raise ODataError(f"Literals of type '{prefix}' are not supported here: '{raw}'.")
    if kind == "ident":
        if raw == "true":
            return "o", True
        if raw == "false":
            return "o", False
        if raw == "null":
            return "null", None
    raise ODataError(f"Expected a literal, found '{raw}'.")


def format_literal(code: str, value: Any) -> str:
    """OData literal text of an internal value (for ``$skiptoken``)."""
    if value is None:
        return "null"
    if code == "g":
        return f"guid'{value}'"
    if code == "d":
        return f"datetime'{iso_from_ms(value)}'"
    if code == "l":
        return f"{value}L"
    if code in ("i",):
        return str(int(value))
    if code == "f":
        return repr(float(value)) + "M"
    if code == "o":
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def parse_literal_list(text: str) -> list[tuple[str, Any]]:
    """Comma-separated literals (a ``$skiptoken``)."""
    toks = tokenize(text)
    out = []
    expect_value = True
    for kind, raw, _ in toks:
        if expect_value:
            out.append(parse_literal_token(kind, raw))
        elif raw != ",":
            raise ODataError(f"Invalid $skiptoken '{text}'.")
        expect_value = not expect_value
    if expect_value:
        raise ODataError(f"Invalid $skiptoken '{text}'.")
    return out


# ----------------------------------------------------------------------------- $filter
COMPARE_OPS = ("eq", "ne", "gt", "ge", "lt", "le")
FUNCS = {  # name -> (arg count, result type)
    "substringof": (2, "o"), "startswith": (2, "o"), "endswith": (2, "o"), "tolower": (1, "s"),
    "toupper": (1, "s"), "trim": (1, "s"), "length": (1, "i"), "indexof": (2, "i"), "concat": (2, "s"),
    "year": (1, "i"), "month": (1, "i"), "day": (1, "i"), "hour": (1, "i"), "minute": (1, "i"),
    "second": (1, "i"),
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise ODataError(f"Unexpected end of expression in '{self.text}'.")
        self.i += 1
        return tok

    def word(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok[0] == "ident" and tok[1] in words:
            self.i += 1
            return tok[1]
        return None

    def parse(self) -> tuple:
        node = self.or_expr()
        if self.peek() is not None:
            raise ODataError(f"Syntax error at position {self.peek()[2]} in '{self.text}'.")
        return node

    def or_expr(self) -> tuple:
        node = self.and_expr()
        while self.word("or"):
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> tuple:
        node = self.not_expr()
        while self.word("and"):
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> tuple:
        if self.word("not"):
            return ("not", self.not_expr())
        return self.cmp_expr()

    def cmp_expr(self) -> tuple:
        left = self.primary()
        op = self.word(*COMPARE_OPS)
        if op is None:
            tok = self.peek()
            if tok is not None and tok[0] == "ident" and tok[1] in ("add", "sub", "mul", "div", "mod"):
                raise ODataError(f"Arithmetic operator '{tok[1]}' is not supported in $filter.")
            return left
        return ("cmp", op, left, self.primary())

    def primary(self) -> tuple:
        kind, raw, pos = self.take()
        if raw == "(":
            node = self.or_expr()
            if self.take()[1] != ")":
                raise ODataError(f"')' expected in '{self.text}'.")
            return node
        if kind == "ident" and raw not in ("true", "false", "null"):
            nxt = self.peek()
            if nxt is not None and nxt[1] == "(":
                name = raw.lower()
                if name not in FUNCS:
                    raise ODataError(f"Unknown function '{raw}' at position {pos}.")
                self.take()
                args = []
                if self.peek() is not None and self.peek()[1] != ")":
                    args.append(self.or_expr())
                    while self.peek() is not None and self.peek()[1] == ",":
                        self.take()
                        args.append(self.or_expr())
                if self.take()[1] != ")":
                    raise ODataError(f"')' expected in '{self.text}'.")
                if len(args) != FUNCS[name][0]:
                    raise ODataError(f"Function '{raw}' takes {FUNCS[name][0]} argument(s).")
                return ("call", name, args, pos)
            if "/" in raw:
                # §2.4: "no field-vs-field or navigation-property filters".
                raise ODataError(f"Navigation property filters are not supported: '{raw}'.")
            return ("prop", raw, pos)
        if kind in ("str", "num", "typed", "ident"):
            code, value = parse_literal_token(kind, raw)
            return ("lit", code, value)
        raise ODataError(f"Syntax error at position {pos} in '{self.text}'.")


def parse_filter(text: str) -> tuple:
    if not text.strip():
        raise ODataError("The $filter expression is empty.")
    return _Parser(text).parse()


def _fold(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


def _compatible(ptype: str, lit: str) -> bool:
    if lit == "null":
        return True
    if ptype in NUMERIC:
        return lit in NUMERIC
    if ptype == "x":
        return lit == "s"
    return ptype == lit


class CompiledFilter:
    """A type-checked ``$filter``: ``predicate(get)`` plus the bounds the store can use directly."""

    def __init__(self, text: str, node: tuple, predicate: Callable[[Callable[[str], Any]], bool],
                 fields: set[str]) -> None:
        self.text = text
        self.node = node
        self.predicate = predicate
        self.fields = fields

    def conjuncts(self) -> list[tuple]:
        out: list[tuple] = []

        def walk(n: tuple) -> None:
            if n[0] == "and":
                walk(n[1])
                walk(n[2])
            else:
                out.append(n)
        walk(self.node)
        return out

    def simple_bounds(self) -> tuple[list[tuple[str, str, Any]], bool]:
        """Top-level ``prop op literal`` conjuncts as (prop, op, value), and whether they are all."""
        flip = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}
        out = []
        complete = True
        for n in self.conjuncts():
            if n[0] == "cmp" and n[2][0] == "prop" and n[3][0] == "lit" and n[3][1] != "null":
                out.append((n[2][1], n[1], n[3][2]))
            elif n[0] == "cmp" and n[3][0] == "prop" and n[2][0] == "lit" and n[2][1] != "null":
                out.append((n[3][1], flip[n[1]], n[2][2]))
            else:
                complete = False
        return out, complete


def compile_filter(text: str, types: dict[str, str], type_name: str) -> CompiledFilter:
    """Type-check ``text`` against ``types`` (property -> type code) and build a predicate.

    Strict like the vendor's WCF stack: unknown properties, navigation paths, property-vs-property
    comparisons and literals of the wrong type (``Modified gt '2024-01-01'``) are 400s.
    String comparisons are case-insensitive (SQL Server's default collation behind Exact).
    """
    node = parse_filter(text)
    fields: set[str] = set()

    def prop_name(raw: str, pos: int) -> str:
        # Property names are case sensitive in OData (as in the vendor's WCF stack).
        name = raw if raw in types else None
        if name is None:
            raise ODataError(f"No property '{raw}' exists in type '{type_name}' at position {pos}.")
        t = types[name]
        if t in ("n", "c"):
            raise ODataError(f"Navigation property '{raw}' cannot be used in $filter.")
        return name

    def build(n: tuple) -> tuple[str, Callable]:
        kind = n[0]
        if kind == "lit":
            value = n[2]
            return n[1], (lambda get, _v=value: _v)
        if kind == "prop":
            name = prop_name(n[1], n[2])
            fields.add(name)
            return types[name], (lambda get, _n=name: get(_n))
        if kind == "not":
            t, f = build(n[1])
            if t != "o":
                raise ODataError("The 'not' operator needs a Boolean operand.")
            return "o", (lambda get, _f=f: not _f(get))
        if kind in ("and", "or"):
            t1, f1 = build(n[1])
            t2, f2 = build(n[2])
            if t1 != "o" or t2 != "o":
                raise ODataError(f"The '{kind}' operator needs Boolean operands.")
            if kind == "and":
                return "o", (lambda get, a=f1, b=f2: bool(a(get)) and bool(b(get)))
            return "o", (lambda get, a=f1, b=f2: bool(a(get)) or bool(b(get)))
        if kind == "cmp":
            op, left, right = n[1], n[2], n[3]
            if left[0] == "prop" and right[0] == "prop":
                raise ODataError("Comparing two properties is not supported in $filter.")
            tl, fl = build(left)
            tr, fr = build(right)
            prop_t = tl if left[0] != "lit" else tr
            lit_t = tr if left[0] != "lit" else tl
            if right[0] == "lit" or left[0] == "lit":
                if not _compatible(prop_t, lit_t):
                    raise ODataError(f"Operator '{op}' incompatible with operand types "
                                     f"'{TYPE_NAMES.get(prop_t, prop_t)}' and '{TYPE_NAMES.get(lit_t, lit_t)}'.")
            elif not (tl == tr or (tl in NUMERIC and tr in NUMERIC)):
                raise ODataError(f"Operator '{op}' incompatible with operand types "
                                 f"'{TYPE_NAMES.get(tl, tl)}' and '{TYPE_NAMES.get(tr, tr)}'.")
            if op in ("gt", "ge", "lt", "le") and "o" in (tl, tr):
                raise ODataError(f"Operator '{op}' is not defined for Edm.Boolean.")
            return "o", _comparator(op, fl, fr)
        if kind == "call":
            name, args = n[1], n[2]
            built = [build(a) for a in args]
            types_in = [b[0] for b in built]
            fs = [b[1] for b in built]
            if name in ("substringof", "startswith", "endswith", "indexof", "concat"):
                if any(t not in ("s", "null") for t in types_in):
                    raise ODataError(f"Function '{name}' needs Edm.String arguments.")
            elif name in ("tolower", "toupper", "trim", "length"):
                if types_in[0] not in ("s",):
                    raise ODataError(f"Function '{name}' needs an Edm.String argument.")
            elif types_in[0] != "d":
                raise ODataError(f"Function '{name}' needs an Edm.DateTime argument.")
            return FUNCS[name][1], _function(name, fs)
        raise ODataError("Unsupported expression in $filter.")

    t, fn = build(node)
    if t != "o":
        raise ODataError("The $filter expression must evaluate to a Boolean.")
    return CompiledFilter(text, node, lambda get: bool(fn(get)), fields)


def _comparator(op: str, fl: Callable, fr: Callable) -> Callable:
    def cmp(get: Callable) -> bool:
        a, b = fl(get), fr(get)
        if a is None or b is None:
            if op == "eq":
                return a is None and b is None
            if op == "ne":
                return (a is None) != (b is None)
            return False
        a, b = _fold(a), _fold(b)
        if op == "eq":
            return a == b
        if op == "ne":
            return a != b
        try:
            if op == "gt":
                return a > b
            if op == "ge":
                return a >= b
            if op == "lt":
                return a < b
            return a <= b
        except TypeError:
            return False
    return cmp


def _function(name: str, fs: list[Callable]) -> Callable:
    def call(get: Callable) -> Any:
        args = [f(get) for f in fs]
        if any(a is None for a in args):
            return None if name not in ("substringof", "startswith", "endswith") else False
        if name == "substringof":
            return _fold(args[0]) in _fold(args[1])
        if name == "startswith":
            return _fold(args[0]).startswith(_fold(args[1]))
        if name == "endswith":
            return _fold(args[0]).endswith(_fold(args[1]))
        if name == "tolower":
            return args[0].lower()
        if name == "toupper":
            return args[0].upper()
        if name == "trim":
            return args[0].strip()
        if name == "length":
            return len(args[0])
        if name == "indexof":
            return _fold(args[0]).find(_fold(args[1]))
        if name == "concat":
            return args[0] + args[1]
        d = naive_from_ms(args[0])
        return getattr(d, name)
    return call


# ----------------------------------------------------------------------------- $select / $orderby
def parse_select(text: str, types: dict[str, str], type_name: str) -> list[str] | None:
    """Property names to return (None = all). ``*`` is all properties (§2.4 advises against it)."""
    names = [p.strip() for p in text.split(",")]
    if any(not p for p in names):
        raise ODataError(f"Invalid $select '{text}'.")
    if "*" in names:
        return None
    out = []
    for p in names:
        if "/" in p:
            raise ODataError(f"Navigation paths are not supported in $select: '{p}'.")
        if p not in types:
            raise ODataError(f"No property '{p}' exists in type '{type_name}'.")
        if p not in out:
            out.append(p)
    return out


def parse_orderby(text: str, types: dict[str, str], type_name: str) -> list[tuple[str, bool]]:
    """[(property, descending)]."""
    out = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"Invalid $orderby '{text}'.")
        name = words[0]
        if name not in types or types[name] in ("n", "c"):
            raise ODataError(f"No property '{name}' exists in type '{type_name}' to order by.")
        out.append((name, len(words) == 2 and words[1].lower() == "desc"))
    return out
