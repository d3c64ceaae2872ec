"""SuperOffice's ``$filter`` language over archive-provider columns (docs: en/api/search/odata/*).

``column operator value``, joined by ``and`` / ``or``, with parentheses; values are ``'quoted strings'``
(``''`` is a quote inside one: ``name is 'O''Brien'``), numbers, ``true``/``false``, or a list
``(v1, v2)`` for ``between``/``oneOf``/``in``; the functions ``startswith(col,'x')``,
``endswith(col,'x')`` and ``substringof('x',col)``. Column names and operators are
case-insensitive. Which operators a column takes depends on its restriction type:

* int / decimal / timeSpan: ``eq = equals set  ne unequals  lt less  le  gt greater  ge  between
  oneOf in notOneOf``;
* string: ``eq = is equals  ne isNot  contains notContains  begins notBegins  between in``
  (case-insensitive, as SQL Server's collation);
* bool: ``set`` / ``eq`` / ``equals`` with ``true``/``false``/``1``/``0``;
* list columns (listAny, associate, ...): by list item ids, ``oneOf in eq = equals  notOneOf ne
  associateIsOneOf associateIsNotOneOf currentAssociate``;
* date (restriction ``date``: ONLY THE DATE PART IS USED, restriction-types.md): ``before after date
  beforeOrEqual dateBetween between today beforeToday afterToday``. ``after '2024-05-01'`` means from
  2024-05-02 00:00 on: rows changed later on 2024-05-01 are NOT returned;
* datetime: ``afterTime`` (after or EQUAL), ``beforeTime`` (strictly before), ``dateTime`` (equal to
  the second); the date operators work on them too, on the date part.

UNCERTAIN readings (the ones that break a careless client):

* the OData comparison operators (``gt``, ``ge``, ...) are NOT accepted on date/datetime columns:
  the docs list only the date operators for them (400 naming the operator and the column);
* ``afterTime``/``beforeTime``/``dateTime`` on a *date* column (the docs' example applies
  ``afterTime`` to appointment ``date``) are accepted but compare the date part only:
  ``updatedDate afterTime '2024-05-01T15:00:01'`` returns everything from 2024-05-01 00:00 on
  (re-reads, never losses), ``beforeTime`` excludes the whole given day;
* unknown columns, a column without a restriction type (``*None*`` on the reference pages), an
  operator the column's type does not take, a value of the wrong type or a bad date: 400.

A filter compiles to conditions whose date comparisons are half-open intervals ``[lo, hi)`` on the
column's timestamp, so a range on the provider's change column (or on the key) can be answered by
binary search instead of a scan (:func:`ranges`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .catalog import Column, Provider
from .errors import bad_request

DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w/:])|(?P<sym>[(),=])|"
                    r"(?P<word>[A-Za-z_][\w/:.\-]*)|(?P<bad>\S))")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                   r"(Z|[+-]\d{2}:?\d{2})?$")

NUMERIC_OPS = {"eq": "eq", "=": "eq", "equals": "eq", "set": "eq", "ne": "ne", "unequals": "ne", "lt": "lt",
               "less": "lt", "le": "le", "gt": "gt", "greater": "gt", "ge": "ge", "between": "between",
               "oneof": "in", "in": "in", "notoneof": "notin"}
STRING_OPS = {"eq": "eq", "=": "eq", "is": "eq", "equals": "eq", "ne": "ne", "isnot": "ne", "contains": "contains",
              "notcontains": "notcontains", "begins": "begins", "notbegins": "notbegins", "between": "between",
              "in": "in", "oneof": "in"}
BOOL_OPS = {"set": "eq", "eq": "eq", "equals": "eq", "=": "eq"}
LIST_OPS = {"oneof": "in", "in": "in", "eq": "in", "=": "in", "equals": "in", "associateisoneof": "in",
            "notoneof": "notin", "ne": "notin", "associateisnotoneof": "notin", "currentassociate": "current"}
DATE_OPS = {"before", "after", "date", "beforeorequal", "datebetween", "between", "today", "beforetoday",
            "aftertoday", "aftertime", "beforetime", "datetime"}
UNARY = {"today", "beforetoday", "aftertoday", "currentassociate"}
PAIR = {"between", "datebetween"}
LISTED = {"in", "oneof", "notoneof", "associateisoneof", "associateisnotoneof"}


def parse_date(text: Any, what: str) -> tuple[dt.datetime, bool]:
    """(naive UTC datetime, whether a time was given) of a date literal; 400 when it is not one."""
    m = _DATE.match(str(text).strip()) if isinstance(text, str) else None
    if m is None:
        raise bad_request(f"'{text}' is not a date (yyyy-mm-dd or yyyy-mm-ddThh:mm:ss) in {what}")
    y, mo, d, h, mi, s, tz = m.groups()
    try:
        value = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        raise bad_request(f"'{text}' is not a valid date in {what}") from None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        value -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value, h is not None


@dataclass
class Cond:
    column: Column
    op: str  # eq ne lt le gt ge between in notin contains notcontains begins notbegins ends interval
    values: list[Any]
    lo: dt.datetime | None = None  # interval: lo <= value < hi
    hi: dt.datetime | None = None

    def test(self, value: Any) -> bool:
        op, vals = self.op, self.values
        if op == "interval":
            if not isinstance(value, dt.datetime):
                return False
            return (self.lo is None or value >= self.lo) and (self.hi is None or value < self.hi)
        if value is None:
            return False
        if self.column.kind == "string":
            value = str(value).casefold()
        if self.column.kind == "intarray":
            hit = any(v in vals for v in value)
            return hit if op == "in" else not hit
        if op == "eq":
            return bool(value == vals[0])
        if op == "ne":
            return bool(value != vals[0])
        if op == "lt":
            return bool(value < vals[0])
        if op == "le":
            return bool(value <= vals[0])
        if op == "gt":
            return bool(value > vals[0])
        if op == "ge":
            return bool(value >= vals[0])
        if op == "between":
            return bool(vals[0] <= value <= vals[1])
        if op == "in":
            return value in vals
        if op == "notin":
            return value not in vals
        if op == "contains":
            return vals[0] in value
        if op == "notcontains":
            return vals[0] not in value
        if op == "begins":
            return bool(value.startswith(vals[0]))
        if op == "notbegins":
            return not value.startswith(vals[0])
        if op == "ends":
            return bool(value.endswith(vals[0]))
        raise AssertionError(op)


@dataclass
class Node:
    kind: str  # "and" | "or"
    parts: list[Any]


Expr = Any  # Cond | Node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, Any]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind is None:
                continue
            raw = m.group(kind)
            if kind == "bad":
                raise bad_request(f"Unexpected character '{raw}' in $filter: {text}")
            if kind == "str":
                self.tokens.append(("str", raw[1:-1].replace("''", "'")))
            elif kind == "num":
                self.tokens.append(("num", float(raw) if "." in raw else int(raw)))
            else:
                self.tokens.append((kind, raw))
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        if tok is None:
            raise bad_request(f"Unexpected end of $filter: {self.text}")
        self.pos += 1
        return tok

    def expect(self, sym: str) -> None:
        tok = self.take()
        if tok != ("sym", sym):
            raise bad_request(f"Expected '{sym}' in $filter, found '{tok[1]}': {self.text}")

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok[0] == "word" and str(tok[1]).lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Any:
        expr = self.expr()
        if self.peek() is not None:
            raise bad_request(f"Unexpected '{self.peek()[1]}' in $filter: {self.text}")  # type: ignore[index]
        return expr

    def expr(self) -> Any:
        parts = [self.term()]
        while self.keyword("or"):
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def term(self) -> Any:
        parts = [self.factor()]
        while self.keyword("and"):
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def factor(self) -> Any:
        tok = self.take()
        if tok == ("sym", "("):
            inner = self.expr()
            self.expect(")")
            return inner
        if tok[0] != "word":
            raise bad_request(f"Expected a column name in $filter, found '{tok[1]}': {self.text}")
        name = str(tok[1])
        if name.lower() in ("startswith", "endswith", "substringof") and self.peek() == ("sym", "("):
            self.take()
            args = [self.take()]
            self.expect(",")
            args.append(self.take())
            self.expect(")")
            words = [a for a in args if a[0] == "word"]
            values = [a for a in args if a[0] != "word"]
            if len(words) != 1 or len(values) != 1:
                raise bad_request(f"{name}() takes a column and a value in $filter: {self.text}")
            op = {"startswith": "begins", "endswith": "ends", "substringof": "contains"}[name.lower()]
            return ("cmp", str(words[0][1]), op, [values[0][1]])
        op_tok = self.take()
        if op_tok[0] not in ("word", "sym") or op_tok == ("sym", "(") or op_tok == ("sym", ","):
            raise bad_request(f"Expected an operator after '{name}' in $filter: {self.text}")
        op = str(op_tok[1])
        low = op.lower()
        if low in UNARY:
            return ("cmp", name, op, [])
        nxt = self.peek()
        if nxt == ("sym", "("):
            self.take()
            values = [self.value()]
            while self.peek() == ("sym", ","):
                self.take()
                values.append(self.value())
            self.expect(")")
            return ("cmp", name, op, values)
        return ("cmp", name, op, [self.value()])

    def value(self) -> Any:
        kind, raw = self.take()
        if kind in ("str", "num"):
            return raw
        if kind == "word":
            low = str(raw).lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            return str(raw)
        raise bad_request(f"Expected a value in $filter, found '{raw}': {self.text}")


def _number(value: Any, col: Column) -> float | int:
    if isinstance(value, bool) or value is None:
        raise bad_request(f"The column '{col.name}' takes a number, not {value!r}")
    try:
        return int(value) if col.kind != "decimal" and not isinstance(value, float) else float(value)
    except (TypeError, ValueError):
        raise bad_request(f"The column '{col.name}' takes a number, not {value!r}") from None


def _bool(value: Any, col: Column) -> bool:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return bool(int(value))
    raise bad_request(f"The column '{col.name}' takes true or false, not {value!r}")


def _check_count(op: str, values: list[Any], col: Column) -> None:
    low = op.lower()
    if low in PAIR and len(values) != 2:
        raise bad_request(f"'{op}' takes two values ('a', 'b') for column '{col.name}'")
    if low not in PAIR and low not in LISTED and low not in UNARY and len(values) != 1:
        raise bad_request(f"'{op}' takes one value for column '{col.name}'")
    if low in LISTED and not values:
        raise bad_request(f"'{op}' takes a list of values for column '{col.name}'")


def _date_interval(col: Column, op: str, values: list[Any], today: dt.datetime) -> tuple[Any, Any]:
    what = f"'{col.name} {op}'"
    low = op.lower()
    if low == "today":
        return today, today + DAY
    if low == "beforetoday":
        return None, today
    if low == "aftertoday":
        return today + DAY, None
    points = [parse_date(v, what) for v in values]
    exact = col.kind == "datetime" and low in ("aftertime", "beforetime", "datetime")
    if exact:
        t = points[0][0]
        return {"aftertime": (t, None), "beforetime": (None, t), "datetime": (t, t + SECOND)}[low]
    days = [p[0].replace(hour=0, minute=0, second=0) for p in points]
    d = days[0]
    if low in ("between", "datebetween"):
        return days[0], days[1] + DAY
    return {"before": (None, d), "after": (d + DAY, None), "date": (d, d + DAY), "beforeorequal": (None, d + DAY),
            "aftertime": (d, None), "beforetime": (None, d), "datetime": (d, d + DAY)}[low]


def compile_filter(text: str, provider: Provider, *, today: dt.datetime, current_associate: int) -> Expr:
    """The filter ``text`` checked against ``provider``'s columns (400 on any problem)."""
    tree = _Parser(text).parse()

    def build(node: Any) -> Expr:
        if node[0] in ("and", "or"):
            return Node(node[0], [build(p) for p in node[1]])
        _, name, op, values = node
        col = provider.column(name)
        if col is None:
            raise bad_request(f"Unknown column '{name}' in $filter for archive provider {provider.name}")
        low = op.lower()
        kind = col.kind
        if kind == "none":
            raise bad_request(f"The column '{col.name}' of {provider.name} cannot be used in a filter")
        _check_count(op, values, col)
        if low in ("ends",) and kind == "string":
            return Cond(col, "ends", [str(values[0]).casefold()])
        if kind in ("int", "decimal"):
            if low not in NUMERIC_OPS:
                raise _bad_op(op, col)
            return Cond(col, NUMERIC_OPS[low], [_number(v, col) for v in values])
        if kind == "string":
            if low not in STRING_OPS:
                raise _bad_op(op, col)
            return Cond(col, STRING_OPS[low], [("" if v is None else str(v)).casefold() for v in values])
        if kind == "bool":
            if low not in BOOL_OPS:
                raise _bad_op(op, col)
            return Cond(col, "eq", [_bool(values[0], col)])
        if kind in ("list", "intarray"):
            if low not in LIST_OPS or (kind == "intarray" and LIST_OPS[low] == "current"):
                raise _bad_op(op, col)
            canon = LIST_OPS[low]
            if canon == "current":
                return Cond(col, "in", [current_associate])
            return Cond(col, canon, [int(_number(v, col)) for v in values])
        if kind in ("date", "datetime"):
            if low not in DATE_OPS:
                raise _bad_op(op, col)
            lo, hi = _date_interval(col, op, values, today)
            return Cond(col, "interval", [], lo, hi)
        raise _bad_op(op, col)

    return build(tree)


def _bad_op(op: str, col: Column) -> Exception:
    allowed = {"int": NUMERIC_OPS, "decimal": NUMERIC_OPS, "string": STRING_OPS, "bool": BOOL_OPS,
               "list": LIST_OPS, "intarray": LIST_OPS, "date": DATE_OPS, "datetime": DATE_OPS}.get(col.kind, {})
    return bad_request(f"The operator '{op}' is not valid for the {col.restriction} column '{col.name}'"
                       f" (valid: {', '.join(sorted(allowed))})")


def evaluate(expr: Expr, value_of: Callable[[Column], Any]) -> bool:
    if isinstance(expr, Cond):
        return expr.test(value_of(expr.column))
    if expr.kind == "and":
        return all(evaluate(p, value_of) for p in expr.parts)
    return any(evaluate(p, value_of) for p in expr.parts)


def columns_of(expr: Expr | None) -> list[Column]:
    if expr is None:
        return []
    if isinstance(expr, Cond):
        return [expr.column]
    return [c for p in expr.parts for c in columns_of(p)]


@dataclass
class Ranges:
    """What a filter says about the key and the change column, and what is left to check per row."""

    key_lo: int | None = None
    key_hi: int | None = None
    ts_lo: dt.datetime | None = None
    ts_hi: dt.datetime | None = None  # exclusive
    residual: Expr | None = None  # None: nothing left (every row in the ranges matches)


def ranges(expr: Expr | None, provider: Provider) -> Ranges:
    """Split the top-level conjunction of ``expr`` into key/change-column ranges and the rest."""
    out = Ranges()
    if expr is None:
        return out
    parts = expr.parts if isinstance(expr, Node) and expr.kind == "and" else [expr]
    rest = []
    for part in parts:
        if isinstance(part, Cond) and part.column.name == provider.key and part.op in ("eq", "gt", "ge", "lt", "le",
                                                                                        "between"):
            v = [int(x) if float(x) == int(x) else x for x in part.values]
            lo, hi = {"eq": (v[0], v[0]), "gt": (_floor(v[0]) + 1, None), "ge": (_ceil(v[0]), None),
                      "lt": (None, _ceil(v[0]) - 1), "le": (None, _floor(v[0])),
                      "between": (_ceil(v[0]), _floor(v[-1]))}[part.op]
            if lo is not None:
                out.key_lo = lo if out.key_lo is None else max(out.key_lo, lo)
            if hi is not None:
                out.key_hi = hi if out.key_hi is None else min(out.key_hi, hi)
            if part.op == "eq" and not isinstance(v[0], int):
                rest.append(part)
        elif isinstance(part, Cond) and part.column.name == provider.updated and part.op == "interval":
            if part.lo is not None:
                out.ts_lo = part.lo if out.ts_lo is None else max(out.ts_lo, part.lo)
            if part.hi is not None:
                out.ts_hi = part.hi if out.ts_hi is None else min(out.ts_hi, part.hi)
        else:
            rest.append(part)
    out.residual = None if not rest else rest[0] if len(rest) == 1 else Node("and", rest)
    return out


def _floor(v: float) -> int:
    import math
    return math.floor(v)


def _ceil(v: float) -> int:
    import math
    return math.ceil(v)
