"""The batch publisher: records go to Sales Layer in import calls of up to ``batch_size`` items.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 "Writes (Import connector)".
The suite's engine (:class:`~connector_core.publish.Publisher`) sends one request per record; a Sales
Layer import takes lists of items (``input_data[<table>][<i>][<field>]``, ``delete_data[<table>][<i>][REF]``)
[SL-IMP][SL-DEL], so :class:`SalesLayerPublisher` keeps the engine's journal (results, rejects,
checkpoints, the resume after a crash), its rejects and its dry run, and replaces the sending:

1. each record becomes an :class:`~target_saleslayer.dialect.ImportOp` (or a reject with the reason,
   never sent);
2. the items of a table are cut into calls of at most ``batch_size`` (``input_data`` and ``delete_data``
   counted together); an item whose REF (or ID) is already in the call starts the next one, so that the
   records of one item are applied in their order (Sales Layer refuses a REF twice in one call, and
   applies a call's ``input_data`` before its ``delete_data``);
3. each call's ``input_response`` is reconciled item by item [SL-DEL][SL-SDK]: ``result`` 2 (denied)
   rejects every item of the call with Sales Layer's errors (a denial for the call's size stops the run
   naming ``batch_size`` instead); with 0 or 1 the items an error names (``products[3] (REF 'X'): ...``:
   the item's index in its list) are rejected with that text and the others are published; the counts
   (``new_items`` + ``updated_items`` + ``deleted_items``) are checked against the items sent, and a
   disagreement is logged as a warning. ``get_affected_ids=1`` is always asked: its ``{ID: REF}`` pairs
   give each item's Sales Layer ID and tell the items changed from those already as sent;
4. ``status_tracking`` is followed (GET as given) until ``input_status`` is ``end`` [SL-TRK], progress
   logged at a steady interval; only then are the call's results written. An import still running after
   ``tracking_timeout_seconds`` stops the run: its STATE is not passed on. Calls go one at a time, each
   after the previous import ended: a Sales Layer import applies its changes when its job ends, and a
   later call (a product in a category created just before, a second record of one item) is checked
   against the data as it is when it arrives.

Results name per record: stream, key (its REF, else ID), table, method (UPSERT or DELETE), action
(``created``, ``updated``, ``deleted``, ``unchanged`` when Sales Layer tells which, else ``imported``),
the item's Sales Layer ID when known, the call and the tracking outcome.
"""

from __future__ import annotations

import logging
import re
import time
import typing as t
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connector_core.publish import Journal, Publisher, PublishError, PublishItem, Reject
from target_saleslayer.dialect import ImportOp, SalesLayerDialect, SalesLayerImportConnection
from target_saleslayer.forms import Pairs

#: The label an error of ``input_response.errors`` starts with when it is about one item: ``products[3]``
#: (``input_data``, maybe followed by `` (REF 'X')``) or ``delete_data[products][3]``.
ITEM_LABEL = re.compile(r"^\s*(?:delete_data\[(?P<dtable>[^\[\]]+)\]\[(?P<dindex>\d+)\]|"
                        r"(?P<table>[^\s\[\]]+)\[(?P<index>\d+)\])")
#: A denial for the number of items in the call (Sales Layer documents no limit; the sandbox: 1000).
TOO_MANY = re.compile(r"too many items", re.IGNORECASE)
#: Seconds between two progress lines while an import is tracked (a change of status is logged at once).
PROGRESS_SECONDS = 15.0
DENIED, UNMODIFIED, COMPLETED = 2, 0, 1


@dataclass
class Call:
    """One import call: the items of one table, in their order."""

    number: int
    table: str
    upserts: list[ImportOp] = field(default_factory=list)
    deletions: list[ImportOp] = field(default_factory=list)
    refs: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)

    @property
    def size(self) -> int:
        return len(self.upserts) + len(self.deletions)

    @property
    def ops(self) -> list[ImportOp]:
        return [*self.upserts, *self.deletions]

    def holds(self, op: ImportOp) -> bool:
        """Whether the call already has an item with the REF or ID of ``op``."""
        return (op.ref is not None and op.ref in self.refs) or (op.id is not None and op.id in self.ids)

    def add(self, op: ImportOp) -> None:
        (self.deletions if op.delete else self.upserts).append(op)
        if op.ref is not None:
            self.refs.add(op.ref)
        if op.id is not None:
            self.ids.add(op.id)

    def form(self, flags: t.Mapping[str, str]) -> Pairs:
        """The call's form fields (the connection adds the signature)."""
        pairs: Pairs = []
        for name, ops in (("input_data", self.upserts), ("delete_data", self.deletions)):
            for i, op in enumerate(ops):
                prefix = f"{name}[{self.table}][{i}]"
                for key, value in op.pairs:
                    head, bracket, rest = key.partition("[")
                    pairs.append((f"{prefix}[{head}]{bracket}{rest}", value))
        pairs.extend(flags.items())
        return pairs

    def describe(self) -> str:
        parts = [f"{len(self.upserts)} to import"] if self.upserts else []
        if self.deletions:
            parts.append(f"{len(self.deletions)} to delete")
        return (f"import call {self.number} ({self.size} {self.table} item{'' if self.size == 1 else 's'}: "
                f"{', '.join(parts)})")


def _count(value: t.Any, table: str) -> int:
    """``new_items`` & co.: ``{table: n}`` (the sandbox) or a plain number."""
    if isinstance(value, dict):
        value = value.get(table, 0)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _texts(value: t.Any) -> list[str]:
    """``errors`` as a list of texts (a list, one text, or an object of texts)."""
    if value in (None, "", [], {}):
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        value = [value]
    return [v if isinstance(v, str) else str(v) for v in value if v not in (None, "")]


def _where(url: str) -> str:
    """A tracking URL without its query (its token): ``https://api.saleslayer.com/``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"


def _joined(texts: t.Sequence[str], limit: int = 5) -> str:
    shown = "; ".join(texts[:limit])
    return shown + (f" (and {len(texts) - limit} more)" if len(texts) > limit else "")


class SalesLayerPublisher(Publisher):
    """Publishes a sink's records in import calls; see the module docstring."""

    dialect: SalesLayerDialect

    def __init__(self, dialect: SalesLayerDialect, journal: Journal, *, connection: SalesLayerImportConnection,
                 batch_size: int = 1000, input_data_directly: bool = False, tracking_timeout: float = 600,
                 tracking_poll: float = 5, dry_run: bool = False, logger: logging.Logger | None = None,
                 sleep: t.Callable[[float], None] = time.sleep) -> None:
        super().__init__(dialect, journal, session=connection.session, retry_policy=connection.retry_policy,
                         rate_limiter=None, concurrency=1, dry_run=dry_run, logger=logger,
                         timeout=float(connection.timeout))
        self.connection = connection
        self.batch_size = int(batch_size)
        self.direct = bool(input_data_directly)
        self.tracking_timeout = float(tracking_timeout)
        self.tracking_poll = float(tracking_poll)
        self.sleep = sleep
        self.calls = 0

    # -- batches ------------------------------------------------------------------------------------
    def publish(self, items: t.Sequence[PublishItem]) -> None:
        """Publish ``items`` in import calls, in their order. Raises PublishError (and SalesLayerError)."""
        ops: OrderedDict[str, list[ImportOp]] = OrderedDict()
        for item in items:
            earlier = self.journal.already_published(item.fingerprint)
            if earlier is not None:
                self.logger.info("Record %s of %s was published before the interruption (%s, %s); not sending "
                                 "it again", earlier.get("key"), item.stream, earlier.get("method"),
                                 earlier.get("action"))
                continue
            try:
                op = self.dialect.prepare(item)
            except Reject as reject:
                self._reject(item, reject)
                continue
            ops.setdefault(op.table, []).append(op)
        for table, table_ops in ops.items():
            call: Call | None = None
            for op in table_ops:
                if call is None or call.size >= self.batch_size or call.holds(op):
                    if call is not None:
                        self._run(call)
                    self.calls += 1
                    call = Call(self.calls, table)
                call.add(op)
            if call is not None:
                self._run(call)

    def _flags(self) -> dict[str, str]:
        flags = {"get_affected_ids": "1"}
        if self.direct:
            flags["input_data_directly"] = "1"
        return flags

    # -- one call -----------------------------------------------------------------------------------
    def _run(self, call: Call) -> None:
        if self.dry_run:
            self.logger.info("dry run: would send Sales Layer %s", call.describe())
            for op in call.ops:
                self.journal.result(stream=op.item.stream, key=op.key, table=call.table, method=op.method,
                                    action=None, remote_id=None, call=call.number, tracking=None,
                                    fingerprint=op.item.fingerprint, dry_run=True)
            return
        self.logger.info("Sales Layer %s", call.describe())
        answer = self.connection.import_call(call.form(self._flags()))
        response = answer.get("input_response")
        if not isinstance(response, dict):
            raise PublishError(f"Sales Layer answered {call.describe()} without an input_response (keys: "
                               f"{', '.join(sorted(map(str, answer))) or 'none'}): whether its items were imported "
                               "is unknown, so the run stops here")
        published = self._reconcile(call, response)
        tracking, message = self._tracking(call, response, bool(published))
        for op, action, remote_id in published:
            self.journal.result(stream=op.item.stream, key=op.key, table=call.table, method=op.method,
                                action=action, remote_id=remote_id, call=call.number, tracking=tracking,
                                tracking_message=message, fingerprint=op.item.fingerprint)

    def _reconcile(self, call: Call, response: dict[str, t.Any]) -> list[tuple[ImportOp, str, t.Any]]:
        """Rejects the items Sales Layer refused; the others as ``(op, action, Sales Layer ID)``."""
        try:
            result = int(response.get("result"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            result = None
        errors = _texts(response.get("errors", response.get("error")))
        if result == DENIED and any(TOO_MANY.search(e) for e in errors):
            raise PublishError(f"Sales Layer denied {call.describe()} for its size: "
                               f"{_joined([e for e in errors if TOO_MANY.search(e)])}; lower the batch_size "
                               f"setting (now {self.batch_size}; Sales Layer does not document its limit)")
        if result not in (DENIED, UNMODIFIED, COMPLETED):
            raise PublishError(f"Sales Layer answered {call.describe()} with result {response.get('result')!r} "
                               "(expected 0, 1 or 2): whether its items were imported is unknown, so the run stops "
                               f"here. Errors: {_joined(errors) or 'none'}")
        named: dict[int, list[str]] = {}
        general: list[str] = []
        for text in errors:
            match = ITEM_LABEL.match(text)
            ops = None
            if match and match["dtable"] == call.table:
                ops, index = call.deletions, int(match["dindex"])
            elif match and match["table"] == call.table:
                ops, index = call.upserts, int(match["index"])
            if ops is not None and index < len(ops):
                named.setdefault(id(ops[index]), []).append(text)
            else:
                general.append(text)
        affected_ids = response.get("affected_ids")
        affected = affected_ids.get(call.table) if isinstance(affected_ids, dict) else None
        known = isinstance(affected, dict)
        by_ref = {str(ref): key for key, ref in affected.items()} if isinstance(affected, dict) else {}
        kept: list[tuple[ImportOp, t.Any]] = []
        for op in call.ops:
            own = named.get(id(op))
            if own:
                text = _joined(own)
                self._reject(op.item, Reject(f"Sales Layer refused the item ({call.describe()}): {text}",
                                             vendor_message=text))
                continue
            if result == DENIED:
                text = _joined(general) if general else "no reason given"
                self._reject(op.item, Reject(f"Sales Layer denied the whole call ({call.describe()}, result 2): "
                                             f"{text}", vendor_message=text))
                continue
            remote_id = None
            if isinstance(affected, dict):
                remote_id = op.id if op.id is not None and op.id in affected else by_ref.get(op.ref or "")
            if general and remote_id is None:
                text = _joined(general)
                self._reject(op.item, Reject(
                    f"Sales Layer answered errors that name no item ({call.describe()}), and this item is not among "
                    f"those it says it changed: {text}; check it in Sales Layer and send it again",
                    vendor_message=text))
                continue
            kept.append((op, remote_id))
        new, updated, deleted = (_count(response.get(k), call.table)
                                 for k in ("new_items", "updated_items", "deleted_items"))
        refused = call.size - len(kept)
        if result == DENIED:
            return []
        changed_upserts = [op for op, remote in kept if remote is not None and not op.delete
                           and str(op.fields.get("status", "")).upper() != "X"]
        published: list[tuple[ImportOp, str, t.Any]] = []
        for op, remote_id in kept:
            if op.delete or str(op.fields.get("status", "")).upper() == "X":
                action = "deleted" if remote_id is not None or not known else "unchanged"
            elif not known:
                action = "imported"
            elif remote_id is None:
                action = "unchanged"
            elif updated == 0 and new == len(changed_upserts):
                action = "created"
            elif new == 0 and updated == len(changed_upserts):
                action = "updated"
            else:
                action = "imported"
            published.append((op, action, int(remote_id) if str(remote_id).isdigit() else remote_id))
        reported = new + updated + deleted
        expected = sum(1 for _, remote in kept if remote is not None) if known else len(kept)
        unchanged = len(kept) - expected
        if reported != expected:
            self.logger.warning("Sales Layer's counts for %s disagree with the items sent: %d sent, %d refused, %d "
                                "already as sent%s; it reports %d new, %d updated, %d deleted", call.describe(),
                                call.size, refused, unchanged, "" if known else " (unknown: no affected_ids)",
                                new, updated, deleted)
        self.logger.info("Sales Layer %s: result %d, %d new, %d updated, %d deleted, %d unchanged, %d refused",
                         call.describe(), result, new, updated, deleted, unchanged, refused)
        return published

    # -- tracking -----------------------------------------------------------------------------------
    def _tracking(self, call: Call, response: dict[str, t.Any], anything: bool) -> tuple[str, str | None]:
        """Follow ``status_tracking`` to its end: ``(outcome, last message)``."""
        url = response.get("status_tracking")
        if isinstance(url, str) and url.strip():
            return self._wait(call, url.strip())
        if not anything:
            return "none", None
        if self.direct or self.connection.api_version == "1.17":
            return "applied at once", None  # 1.17 and input_data_directly: no import job [SL-IMP]
        return "not tracked", "Sales Layer gave no status_tracking URL"

    def _wait(self, call: Call, url: str) -> tuple[str, str | None]:
        start = time.monotonic()
        deadline = start + self.tracking_timeout
        last_logged, last_status = -float("inf"), None
        while True:
            answer = self.connection.follow(url)
            status = str(answer.get("input_status") or "")
            percent = answer.get("input_percent_completion")
            message = answer.get("input_action_message")
            message = None if message is None else str(message)
            now = time.monotonic()
            if status == "end":
                self.logger.info("Sales Layer %s ended after %.1f s: %s", call.describe(), now - start,
                                 message or "no message")
                return "end", message
            if status != last_status or now - last_logged >= PROGRESS_SECONDS:
                self.logger.info("Sales Layer %s: %s, %s %% complete: %s", call.describe(), status or "no status",
                                 percent if percent is not None else "?", message or "no message")
                last_logged, last_status = now, status
            if now >= deadline:
                raise PublishError(
                    f"Sales Layer {call.describe()} is still running after {self.tracking_timeout:g} s (its tracking "
                    f"URL {_where(url)} last said {status or 'no status'}, {percent} %: {message or 'no message'}). "
                    "The STATE is not passed on (the next run sends these records again); check the import in "
                    "Sales Layer, or raise tracking_timeout_seconds")
            self.sleep(max(0.0, min(self.tracking_poll, deadline - now)))
