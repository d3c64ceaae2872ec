"""What a record becomes in a Sales Layer import, checked before anything is sent.

Contract: ``shared/vendors/superoffice-lightspeed-saleslayer.md`` §3.1 "Writes (Import connector)".

* A stream writes one table of the Import connector (``mappings.<stream>.entity``: ``products``, or
  ``/products``); a stream named like one of tap-saleslayer's standard tables (``catalogue``,
  ``products``, ``product_formats``) writes the table of the same name without a mapping.
* Each record is one item: its ``REF`` (or its Sales Layer ``ID``) and fields named as the Import
  connector names them ("Name on Import": ``name_en``, ``catalogue_REF``...), the record's keys as
  given [SL-IMP]. Singer and tap metadata (``_sdc_*``, ``saleslayer_time``) are left out. A record
  without ``REF`` or ``ID`` is rejected here, with the reason, and never sent.
* ``method`` UPSERT: the item goes in ``input_data[<table>]`` (Sales Layer creates it, unless the
  connector "only updates existing items", or updates the item with that REF) [SL-IMP]; DELETE, or
  a record whose ``_sdc_deleted_at`` is set: ``delete_data[<table>][i][REF]`` (API 1.18) [SL-DEL]. With
  ``api_version`` 1.17 there is no ``delete_data`` (a deletion there is a ``status`` field the import
  connector maps, set to ``X`` [SL-DEL]): such a record is rejected with the reason.
* Values are written as PHP's ``http_build_query`` writes them (:mod:`target_saleslayer.forms`) [SL-SDK].

:class:`SalesLayerImportConnection` is the import connector's connection: the shared
``SalesLayerConnection``, whose ``write`` signs the POST and puts ``ver`` in its URL, where the
official SDK puts it [SL-SDK].
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal

from connector_core.publish import PublishDialect, PublishItem, Reject
from saleslayer_client import SalesLayerConnection
from target_saleslayer.forms import FormValueError, Pairs, http_build_query

#: tap-saleslayer's streams of the tables every Sales Layer account has [SL-PDF]: written back to the
#: import table of the same name without a mapping (custom tables need one).
DEFAULT_TABLES = ("catalogue", "products", "product_formats")
#: Fields of a record that are not the item's: Singer's and tap-saleslayer's own.
EXPORT_TIME = "saleslayer_time"
DELETED_AT = "_sdc_deleted_at"
#: An import table name (it goes into form field names: no brackets, slashes, spaces).
TABLE_NAME = re.compile(r"[^\s/\[\]?&=#]+")
DELETE_DATA_VERSIONS = ("1.18",)


class SalesLayerImportConnection(SalesLayerConnection):
    """The Import connector's connection: an import is a signed, form-encoded POST [SL-IMP][SL-SDK]."""

    def import_call(self, form: Pairs) -> dict[str, t.Any]:
        """POST ``form`` (``input_data[...]`` fields and import flags): the shared connection's ``write``
        (signed afresh on every try, ``ver`` in the URL, temporary errors 10/11/14 retried)."""
        return self.write(form)


def table_of(entity: str) -> str:
    """``/products`` or ``products`` -> ``products``."""
    return entity.strip().strip("/")


@dataclass
class ImportOp:
    """One item of an import call: what is sent for a record, and what became of it."""

    item: PublishItem
    table: str
    delete: bool
    #: The item's form fields, relative (``REF``, ``tags[0]``); the call puts them under
    #: ``input_data[<table>][<i>]`` or ``delete_data[<table>][<i>]``.
    pairs: Pairs
    ref: str | None
    id: str | None
    fields: dict[str, t.Any] = field(default_factory=dict)

    @property
    def key(self) -> t.Any:
        """How results name the item: its REF, else its ID."""
        return self.ref if self.ref is not None else (int(self.id) if self.id is not None else None)

    @property
    def method(self) -> str:
        return "DELETE" if self.delete else "UPSERT"


def _reference(value: t.Any, name: str) -> str | None:
    """A REF or ID as text (None: not given); :class:`Reject` when it cannot be one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise Reject(f"{name} must be a single value (text or a number); got {type(value).__name__}")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise Reject(f"{name} {value} is not a whole number")
        value = int(value)
    text = str(value)
    if name == "ID" and not text.isdigit():
        raise Reject(f"ID {text!r} is not a Sales Layer ID (a positive whole number)")
    return text


class SalesLayerDialect(PublishDialect):
    """Turns each record into an :class:`ImportOp` (see the module docstring)."""

    api_name = "the Sales Layer import connector"

    def __init__(self, connection: SalesLayerConnection) -> None:
        super().__init__(connection)
        self.api_version = connection.api_version

    @classmethod
    def default_mapping(cls, stream: str) -> t.Mapping[str, t.Any] | None:
        return {"entity": f"/{stream}", "method": "UPSERT"} if stream in DEFAULT_TABLES else None

    def check(self, item: PublishItem) -> None:
        self.prepare(item)

    def prepare(self, item: PublishItem) -> ImportOp:
        """The item a record is; :class:`Reject` (with the reason) when it cannot be sent. The item's
        ``key`` becomes its REF (else its ID), as results and rejects name it."""
        table = table_of(item.mapping.entity)
        payload = item.payload
        if not isinstance(payload, dict):
            raise Reject(f"a Sales Layer item is an object of fields; got {type(payload).__name__}")
        for name in ("REF", "ID"):
            if payload.get(name) not in (None, ""):
                item.key = payload[name]
                break
        fields = {k: v for k, v in payload.items() if not (str(k).startswith("_sdc_") or k == EXPORT_TIME)}
        deleted_at = payload.get(DELETED_AT)
        delete = item.method == "DELETE" or deleted_at not in (None, "")
        ref = _reference(fields.get("REF"), "REF")
        id_ = _reference(fields.get("ID"), "ID")
        if ref is None and id_ is None:
            raise Reject(f"the record has no REF (or ID): every Sales Layer item is named by its reference, REF, "
                         f"or its Sales Layer ID [SL-IMP]; give the {table} items a REF (e.g. a stream map "
                         "REF: product_reference)")
        if delete:
            if self.api_version not in DELETE_DATA_VERSIONS:
                why = f"_sdc_deleted_at is {deleted_at}" if item.method != "DELETE" else "the method is DELETE"
                raise Reject(f"a deletion ({why}) needs api_version 1.18: Sales Layer's delete_data does not exist "
                             "in 1.17 [SL-DEL]; set api_version to 1.18, or send the import connector's status "
                             "field (X) as a field of an UPSERT")
            fields = {name: value for name, value in (("REF", ref), ("ID", id_)) if value is not None}
        else:
            missing = [f for f in item.mapping.required if fields.get(f) in (None, "", [], {})]
            if missing:
                raise Reject(f"{', '.join(missing)} missing: mappings.{item.stream}.required asks every {table} "
                             f"item for {', '.join(item.mapping.required)}")
        try:
            pairs = http_build_query(fields)
        except FormValueError as exc:
            raise Reject(str(exc)) from None
        return ImportOp(item=item, table=table, delete=delete, pairs=pairs, ref=ref, id=id_, fields=fields)
