"""A dialect addressing the endpoints of its generated ``entities.json``: :class:`EntitiesDialect`.

Most vendors' ``entities.json`` lists each endpoint template with the ``methods`` it takes (and, for
most, the body ``model`` of ``models``). Their dialects check every write the same way, and the
helpers below say the same things in the same words for each of them:

* :meth:`EntitiesDialect.check`: an UPSERT by :meth:`~EntitiesDialect.check_upsert`; any other
  write by :meth:`~EntitiesDialect.check_write` (the method is allowed, the record fills the path)
  and, when it carries one, its :meth:`~EntitiesDialect.body`;
* bodies: :meth:`~EntitiesDialect.validator` and :func:`check_schema` (the model's types and
  enums), :func:`refuse_unknown` (fields the entity lacks);
* look-ups: :func:`match_values` (the record's ``match`` values) and :func:`single_match`;
* answers: :func:`answer_object` (a write that answers the object) and :func:`id_in_url`.
"""

from __future__ import annotations

import typing as t
from functools import lru_cache

import requests
from jsonschema import Draft7Validator

from connector_core.catalog import packaged_json
from connector_core.params import template_params
from connector_core.publish.engine import PublishDialect, PublishItem, Reject, Request

#: The methods whose request carries a body.
BODY_METHODS = ("POST", "PUT", "PATCH")


class EntitiesDialect(PublishDialect):
    """A vendor dialect over ``entities.json``'s ``endpoints`` (``{template: {"methods": [...], ...}}``)."""

    #: True when POST, PUT and PATCH answer the whole object: :meth:`written_object` is the answer.
    answers_object: t.ClassVar[bool] = False

    # -- checks before anything is sent ----------------------------------------------------------
    def check(self, item: PublishItem) -> None:
        if item.method == "UPSERT":
            self.check_upsert(item)
            return
        self.check_write(item)
        if item.method in BODY_METHODS:
            self.body(item, item.method, item.mapping.entity)

    def check_upsert(self, item: PublishItem) -> None:
        """What holds for an UPSERT before its look-up (override; by default: its collection takes
        POST)."""
        self.upsert_collection(item)

    def body(self, item: PublishItem, method: str, template: str) -> t.Any:
        """The request body of ``method`` on ``template``, checked: a Reject when it cannot be sent
        (override)."""
        raise NotImplementedError

    def check_write(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        """For a write that is no UPSERT: the endpoint allows the method and the record fills its
        path; the endpoint's template and entry, else a Reject saying what is wrong."""
        template, endpoint = self.endpoint(item.mapping.entity)
        if item.method not in endpoint["methods"]:
            raise Reject(f"{item.method} is not allowed on {template}; it allows "
                         f"{', '.join(endpoint['methods']) or 'no write'}")
        missing = [p for p in template_params(item.mapping.entity) if item.path.get(p) is None]
        if missing:
            raise Reject(f"path parameter {', '.join(missing)} of {item.mapping.entity} has no value: the "
                         f"record needs the field {', '.join(item.mapping.field_for(p) for p in missing)}")
        return template, endpoint

    def upsert_collection(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        """For an UPSERT: its collection and entry, which must take POST (a Reject if not)."""
        collection, endpoint = self.collection_endpoint(item)
        if "POST" not in endpoint["methods"]:
            raise Reject(f"UPSERT needs POST on {collection}, which allows {', '.join(endpoint['methods'])}")
        return collection, endpoint

    # -- entities.json -----------------------------------------------------------------------------
    def collection_endpoint(self, item: PublishItem) -> tuple[str, dict[str, t.Any]]:
        """The item's collection (see :meth:`collection_path`) and its ``entities.json`` entry."""
        collection, _ = self.collection_path(item)
        return self.endpoint(collection)

    def model_of(self, template: str) -> str:
        """The body model of an endpoint whose ``entities.json`` entry names it (``"model"``)."""
        _, endpoint = self.endpoint(template)
        return str(endpoint["model"])

    @classmethod
    def validator(cls, model: str, *, required: bool = True) -> Draft7Validator:
        """A validator of ``entities.json``'s ``models[model]`` (cached); ``required`` False: the
        model's required fields are not checked (an update, or a create checked apart)."""
        return _model_validator(cls.entities_package, model, required)

    # -- answers -----------------------------------------------------------------------------------
    def written_object(self, item: PublishItem, request: Request,
                       response: requests.Response) -> t.Mapping[str, t.Any] | None:
        return answer_object(response) if self.answers_object else None

    def remote_id(self, item: PublishItem, response: requests.Response) -> t.Any:
        """An empty answer's (a DELETE's) id is the URL's; else the answered object's :meth:`id_field`."""
        if response.status_code == 204 or not response.content:
            return id_in_url(response)
        key = self.id_field(item)
        return (answer_object(response) or {}).get(key) if key else None

    def id_field(self, item: PublishItem) -> str | None:
        """The field holding an object's id in the vendor's answers (override)."""
        return "id"


@lru_cache(maxsize=256)
def _model_validator(package: str | None, model: str, required: bool) -> Draft7Validator:
    schema = dict(packaged_json(package, "entities.json")["models"][model]) if package else {}
    if not required:
        schema.pop("required", None)
    return Draft7Validator(schema)


def check_schema(validator: Draft7Validator, body: t.Any, model: str) -> None:
    """A Reject naming the first five places where ``body`` breaks its model, if any."""
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise Reject("; ".join(f"{'/'.join(map(str, e.path)) or model}: {e.message}" for e in errors[:5]))


def refuse_unknown(names: t.Iterable[str], model: str, where: str) -> None:
    """A Reject when the record has fields (``names``) its entity lacks; ``where`` names the
    entity (``/customers``)."""
    unknown = sorted(names)
    if unknown:
        raise Reject(f"field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                     f"{'are' if len(unknown) > 1 else 'is'} not in {model} ({where})")


def match_values(item: PublishItem, fields: t.Mapping[str, t.Any], *,
                 missing: t.Container[t.Any] = (None,)) -> dict[str, t.Any]:
    """The values an UPSERT finds its object by (its mapping's ``match`` fields of ``fields``); a
    Reject when the record lacks one (a value in ``missing``)."""
    lacking = [m for m in item.mapping.match if fields.get(m) in missing]
    if lacking:
        raise Reject(f"UPSERT matches on {', '.join(item.mapping.match)}, but the record has no "
                     f"{', '.join(lacking)}")
    return {m: fields[m] for m in item.mapping.match}


def single_match(rows: t.Sequence[t.Any], wanted: t.Any, collection: str) -> t.Any:
    """The one row an UPSERT's look-up found (None: none); a Reject when it found several."""
    if len(rows) > 1:
        raise Reject(f"UPSERT match {wanted} finds more than one object in {collection}")
    return rows[0] if rows else None


def answer_object(response: requests.Response) -> dict[str, t.Any] | None:
    """The JSON object a write answered, or None."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def id_in_url(response: requests.Response, *, numeric: bool = True) -> t.Any:
    """The last path segment of the answered URL (a DELETE's object), an int when it is digits."""
    segment = requests.utils.urlparse(response.url).path.rstrip("/").rsplit("/", 1)[-1]
    return int(segment) if numeric and segment.isdigit() else segment
