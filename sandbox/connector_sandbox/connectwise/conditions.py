"""A recursive-descent parser and compiler for ConnectWise ``conditions`` / ``orderBy`` / ``fields``.

Grammar ([CW-DG] "Query String Parameters" / "Conditions"; operators and value formats quoted there):

    expr       := and_expr ( OR and_expr )*
    and_expr   := unary ( AND unary )*
    unary      := NOT unary | '(' expr ')' | comparison
    comparison := FIELD [NOT] op value
    op         := '=' | '!=' | '<' | '<=' | '>' | '>=' | CONTAINS | LIKE | IN
    value      := "string" | number | [datetime] | TRUE | FALSE | NULL | '(' value (',' value)* ')'

Keywords are case-insensitive (the guide writes ``AND``/``and``, ``True``, ``Not Contains``). Field
names are case-insensitive too (``Board/Id``, ``LastUpdated`` appear in the guide) and are checked
against the endpoint's model: an unknown field, a malformed expression or a value of the wrong type
is a 400. ``lastUpdated`` / ``dateEntered`` / ``updatedBy`` / ``enteredBy`` that are not fields of the
model resolve to ``_info/<name>`` (UNCERTAIN in the contract whether both spellings work
everywhere: we accept both). Strings compare case-insensitively (SQL Server default collation);
a comparison with a missing (null) value is false except ``= null`` / ``!= null``.

UNCERTAIN: the guide's ``/search`` example uses single quotes (``summary like 'test'``) although
the conditions table says strings "must be surrounded by quotes"; single-quoted strings are
accepted as well.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .catalog import Catalog, Field, Model

INFO_ALIASES = {"lastupdated": "lastUpdated", "dateentered": "dateEntered",
                "updatedby": "updatedBy", "enteredby": "enteredBy"}
INFO_DATETIMES = {"lastUpdated", "dateEntered"}


class ConditionError(ValueError):
    """A malformed or invalid conditions/orderBy/fields expression (answered with a 400)."""

    def __init__(self, message: str, field: str = "conditions") -> None:
        super().__init__(message)
        self.field = field


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<op>!=|<=|>=|=|<|>)
      | (?P<lparen>\() | (?P<rparen>\)) | (?P<comma>,)
      | (?P<dstr>"(?:[^"\\]|\\.)*") | (?P<sstr>'(?:[^'\\]|\\.)*')
      | (?P<dt>\[[^\]]*\])
      | (?P<num>-?\d+(?:\.\d+)?(?![A-Za-z_]))
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "contains", "like", "in", "true", "false", "null"}


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    n = len(text)
    while pos < n:
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"Unexpected character at position {pos + 1}: {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "ident":
            low = val.lower()
            if low in KEYWORDS:
                tokens.append(("kw", low))
            else:
                tokens.append(("ident", val))
        elif kind in ("dstr", "sstr"):
            body = val[1:-1]
            tokens.append(("str", re.sub(r"\\(.)", r"\1", body)))
        elif kind == "num":
            tokens.append(("num", float(val) if "." in val else int(val)))
        elif kind == "dt":
            tokens.append(("dt", _parse_dt_literal(val[1:-1])))
        else:
            tokens.append((kind, val))
    tokens.append(("eof", None))
    return tokens


def format_ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_dt_literal(text: str) -> str:
    raw = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            parsed = dt.datetime.fromisoformat(raw).replace(tzinfo=dt.timezone.utc)
        else:
            t = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
            parsed = dt.datetime.fromisoformat(t)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ConditionError(f"Invalid datetime value [{raw}]; expected e.g. [2024-01-01T00:00:00Z]") from None
    return format_ts(parsed.astimezone(dt.timezone.utc))


# ----------------------------------------------------------------------------- field resolution
class FieldPath:
    """A resolved field path: actual JSON keys, the leaf kind and whether it is the id/info time."""

    __slots__ = ("keys", "kind", "text", "info_key")

    def __init__(self, keys: list[str], kind: str, text: str, info_key: str | None) -> None:
        self.keys = keys
        self.kind = kind
        self.text = text
        self.info_key = info_key

    def get(self, record: dict[str, Any]) -> Any:
        cur: Any = record
        for i, k in enumerate(self.keys):
            if isinstance(cur, list):  # childConditions: collect from every array element
                rest = FieldPath(self.keys[i:], self.kind, self.text, self.info_key)
                out = []
                for item in cur:
                    v = rest.get(item) if isinstance(item, dict) else None
                    if isinstance(v, list):
                        out.extend(v)
                    elif v is not None:
                        out.append(v)
                return out
            if not isinstance(cur, dict):
                return None
            cur = cur.get(k)
            if cur is None:
                return None
        return cur


def resolve_path(catalog: Catalog, model: Model, text: str, *, allow_object: bool = False,
                 param: str = "conditions", allow_arrays: bool = False) -> FieldPath:
    parts = [p for p in text.split("/")]
    if not all(parts):
        raise ConditionError(f"Invalid field '{text}'", param)
    keys: list[str] = []
    cur = model
    for i, part in enumerate(parts):
        low = part.lower()
        last = i == len(parts) - 1
        if cur is None:
            raise ConditionError(f"Unknown field '{text}'", param)
        if low == "_info" and "_info" in cur.by_name:
            if last:
                if allow_object:
                    return FieldPath(keys + ["_info"], "info", text, None)
                raise ConditionError(f"Field '{text}' is an object; use '{text}/lastUpdated'", param)
            if i != len(parts) - 2:
                raise ConditionError(f"Unknown field '{text}'", param)
            sub = parts[i + 1]
            key = INFO_ALIASES.get(sub.lower(), sub)
            kind = "datetime" if key in INFO_DATETIMES else "string"
            return FieldPath(keys + ["_info", key], kind, text, key)
        f: Field | None = cur.field(part)
        if f is None:
            if low in INFO_ALIASES and "_info" in cur.by_name and last:
                key = INFO_ALIASES[low]
                kind = "datetime" if key in INFO_DATETIMES else "string"
                return FieldPath(keys + ["_info", key], kind, text, key)
            raise ConditionError(f"Unknown field '{text}'", param)
        keys.append(f.name)
        if last:
            if f.kind in ("object", "array", "info", "file") and not allow_object:
                raise ConditionError(f"Field '{text}' cannot be used here", param)
            return FieldPath(keys, f.kind, text, None)
        if not f.ref or not (f.kind == "object" or (allow_arrays and f.kind == "array")):
            raise ConditionError(f"Unknown field '{text}'", param)
        cur = catalog.models.get(f.ref)
    raise ConditionError(f"Unknown field '{text}'", param)


# ----------------------------------------------------------------------------- AST + compile
class Node:
    pass


class Cmp(Node):
    def __init__(self, path: FieldPath, op: str, value: Any, negate: bool) -> None:
        self.path, self.op, self.value, self.negate = path, op, value, negate


class BoolOp(Node):
    def __init__(self, op: str, items: list[Node]) -> None:
        self.op, self.items = op, items


class Not(Node):
    def __init__(self, item: Node) -> None:
        self.item = item


class _Parser:
    def __init__(self, text: str, catalog: Catalog, model: Model, allow_arrays: bool = False,
                 param: str = "conditions") -> None:
        self.param = param
        try:
            self.tokens = _tokenize(text)
        except ConditionError as exc:
            raise ConditionError(str(exc), param) from None
        self.i = 0
        self.catalog = catalog
        self.model = model
        self.allow_arrays = allow_arrays

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, Any]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek()[0] == "eof":
            raise ConditionError("Empty conditions")
        node = self.expr()
        if self.peek()[0] != "eof":
            raise ConditionError(f"Unexpected token {self._describe(self.peek())}")
        return node

    @staticmethod
    def _describe(tok: tuple[str, Any]) -> str:
        return "end of input" if tok[0] == "eof" else repr(tok[1])

    def expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek() == ("kw", "or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", items)

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.peek() == ("kw", "and"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp("and", items)

    def unary(self) -> Node:
        tok = self.peek()
        if tok == ("kw", "not"):
            self.take()
            return Not(self.unary())
        if tok[0] == "lparen":
            self.take()
            node = self.expr()
            if self.take()[0] != "rparen":
                raise ConditionError("Missing closing parenthesis")
            return node
        return self.comparison()

    def comparison(self) -> Node:
        tok = self.take()
        if tok[0] != "ident":
            raise ConditionError(f"Expected a field name, found {self._describe(tok)}")
        path = resolve_path(self.catalog, self.model, tok[1], allow_arrays=self.allow_arrays, param=self.param)
        negate = False
        if self.peek() == ("kw", "not"):
            self.take()
            negate = True
        optok = self.take()
        if optok[0] == "op":
            op = optok[1]
        elif optok[0] == "kw" and optok[1] in ("contains", "like", "in"):
            op = optok[1]
        else:
            raise ConditionError(f"Expected an operator after '{tok[1]}', found {self._describe(optok)}")
        if negate and op in ("<", "<=", ">", ">="):
            raise ConditionError(f"'not' cannot be combined with '{op}'")
        if op == "in":
            if self.take()[0] != "lparen":
                raise ConditionError("Expected '(' after 'in'")
            values = [self.value()]
            while self.peek()[0] == "comma":
                self.take()
                values.append(self.value())
            if self.take()[0] != "rparen":
                raise ConditionError("Expected ')' to close the 'in' list")
            for v in values:
                _check_type(path, "=", v)
            return Cmp(path, op, values, negate)
        value = self.value()
        _check_type(path, op, value)
        return Cmp(path, op, value, negate)

    def value(self) -> tuple[str, Any]:
        tok = self.take()
        if tok[0] in ("str", "num", "dt"):
            return tok
        if tok[0] == "kw" and tok[1] in ("true", "false"):
            return ("bool", tok[1] == "true")
        if tok == ("kw", "null"):
            return ("null", None)
        raise ConditionError(f"Expected a value, found {self._describe(tok)}")


def _check_type(path: FieldPath, op: str, value: tuple[str, Any]) -> None:
    vkind, v = value
    kind = path.kind
    if vkind == "null":
        if op not in ("=", "!="):
            raise ConditionError(f"null can only be compared with = or != ('{path.text}')")
        return
    if kind == "any":  # e.g. CustomFieldValue.value: any literal; mismatched types never match
        return
    ok = {
        "integer": ("num",),
        "number": ("num",),
        "boolean": ("bool",),
        "datetime": ("dt",),
        "string": ("str", "dt"),
    }.get(kind, ())
    if vkind not in ok:
        raise ConditionError(f"Invalid value {v!r} for field '{path.text}' ({kind})")
    if op in ("contains", "like") and kind not in ("string",):
        raise ConditionError(f"Operator '{op}' is not valid for field '{path.text}' ({kind})")
    if kind == "boolean" and op not in ("=", "!="):
        raise ConditionError(f"Operator '{op}' is not valid for boolean field '{path.text}'")


def _V(r: dict[str, Any]) -> Any:
    return r["v"]


def _norm(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split("*")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _compile(node: Node) -> Callable[[dict[str, Any]], bool]:
    if isinstance(node, BoolOp):
        fns = [_compile(n) for n in node.items]
        if node.op == "and":
            return lambda r: all(f(r) for f in fns)
        return lambda r: any(f(r) for f in fns)
    if isinstance(node, Not):
        inner = _compile(node.item)
        return lambda r: not inner(r)
    assert isinstance(node, Cmp)
    base = _compile_scalar(node)

    def any_of(r: dict[str, Any]) -> bool:
        v = node.path.get(r)
        if isinstance(v, list):
            return any(base({"v": x}) for x in v) if v else base({"v": None})
        return base({"v": v})

    return any_of


def _compile_scalar(node: Cmp) -> Callable[[dict[str, Any]], bool]:
    """Comparator over ``{"v": value}`` (so list-valued child paths can reuse it)."""
    get = _V
    op = node.op
    negate = node.negate
    if op == "in":
        wanted = {_norm(v) for _, v in node.value}
        has_null = None in wanted

        def f_in(r: dict[str, Any]) -> bool:
            v = get(r)
            if v is None:
                return has_null != negate if has_null else False
            return (_norm(v) in wanted) != negate

        return f_in
    vkind, val = node.value
    if vkind == "null":
        want_null = (op == "=") != negate
        return (lambda r: get(r) is None) if want_null else (lambda r: get(r) is not None)
    val = _norm(val)
    if op == "contains":
        def f_contains(r: dict[str, Any]) -> bool:
            v = get(r)
            return v is not None and ((val in str(v).lower()) != negate)
        return f_contains
    if op == "like":
        rx = _like_regex(str(val))

        def f_like(r: dict[str, Any]) -> bool:
            v = get(r)
            return v is not None and (bool(rx.match(str(v))) != negate)
        return f_like
    import operator

    pyop = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}[op]

    def f_cmp(r: dict[str, Any]) -> bool:
        v = get(r)
        if v is None:
            return False
        if isinstance(v, str):
            v = v.lower()
        try:
            return pyop(v, val) != negate
        except TypeError:
            return False

    return f_cmp


class Bounds:
    """Bounds on the record id (``id``) and on the monotone base timestamps derived from conditions."""

    def __init__(self) -> None:
        self.id_lo = 1
        self.id_hi: int | None = None
        self.time: list[tuple[str, str, str]] = []  # (info key, op, iso value)


class CompiledConditions:
    def __init__(self, text: str, node: Node) -> None:
        self.text = text
        self.node = node
        self.predicate = _compile(node)
        self.bounds, self.exact = _extract_bounds(node)


def _extract_bounds(node: Node) -> tuple[Bounds, bool]:
    """Id / timestamp ranges implied by a pure conjunction; ``exact`` when nothing else remains."""
    bounds = Bounds()
    items = node.items if isinstance(node, BoolOp) and node.op == "and" else [node]
    if isinstance(node, BoolOp) and node.op == "or":
        return bounds, False
    exact = True
    for item in items:
        if not isinstance(item, Cmp) or item.negate:
            exact = False
            continue
        p = item.path
        if p.keys == ["id"] and item.op in ("=", "<", "<=", ">", ">=") and item.value[0] == "num" \
                and isinstance(item.value[1], int):
            v = item.value[1]
            if item.op in ("=", ">="):
                bounds.id_lo = max(bounds.id_lo, v)
            if item.op == ">":
                bounds.id_lo = max(bounds.id_lo, v + 1)
            if item.op in ("=", "<="):
                bounds.id_hi = v if bounds.id_hi is None else min(bounds.id_hi, v)
            if item.op == "<":
                bounds.id_hi = v - 1 if bounds.id_hi is None else min(bounds.id_hi, v - 1)
            continue
        if p.info_key in INFO_DATETIMES and item.op in ("<", "<=", ">", ">=") and item.value[0] == "dt":
            bounds.time.append((p.info_key, item.op, item.value[1]))
            continue
        exact = False
    return bounds, exact


def compile_conditions(text: str, catalog: Catalog, model: Model, *, param: str = "conditions",
                       allow_arrays: bool = False) -> CompiledConditions:
    try:
        node = _Parser(text, catalog, model, allow_arrays, param).parse()
    except ConditionError as exc:
        raise ConditionError(str(exc), param) from None
    return CompiledConditions(text, node)


# ----------------------------------------------------------------------------- orderBy / fields
def parse_order_by(text: str, catalog: Catalog, model: Model) -> list[tuple[FieldPath, bool]]:
    out = []
    for part in text.split(","):
        bits = part.strip().split()
        if not bits or len(bits) > 2:
            raise ConditionError(f"Invalid orderBy '{text}'", "orderBy")
        desc = False
        if len(bits) == 2:
            if bits[1].lower() not in ("asc", "desc"):
                raise ConditionError(f"Invalid orderBy direction '{bits[1]}'; use asc or desc", "orderBy")
            desc = bits[1].lower() == "desc"
        out.append((resolve_path(catalog, model, bits[0], param="orderBy"), desc))
    return out


def parse_fields(text: str, catalog: Catalog, model: Model) -> dict[str, Any]:
    """Build a projection tree ``{key: True | subtree}`` from ``fields=id,name,status/name``."""
    tree: dict[str, Any] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        path = resolve_path(catalog, model, part, allow_object=True, param="fields")
        node = tree
        for k in path.keys[:-1]:
            sub = node.get(k)
            if sub is True:
                break
            if sub is None:
                sub = node[k] = {}
            node = sub
        else:
            node[path.keys[-1]] = True
    if not tree:
        raise ConditionError("Empty fields list", "fields")
    return tree


def project(record: dict[str, Any], tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, sub in tree.items():
        if k not in record:
            continue
        v = record[k]
        if sub is True:
            out[k] = v
        elif isinstance(v, dict):
            pv = project(v, sub)
            if pv:
                out[k] = pv
        elif isinstance(v, list):
            out[k] = [project(x, sub) if isinstance(x, dict) else x for x in v]
    return out
