"""Generate every SuperOffice (CRM Online, REST WebAPI v1) artifact from the vendor's specs.

Reads, at development time only (the plugins and the emulator never read these):
- ``<specs>/rest/Swagger-v1-*.json``: the 54 Swagger 2.0 files of the REST WebAPI
  (github.com/SuperOfficeDocs/docs ``api-sources/openapi/rest``, MIT; ``--specs``, default
  ``../shared/specs/superoffice``);
- ``scripts/generators/superoffice_providers.json``: the archive providers' entities and columns,
  transcribed from the docs' archive-provider reference pages (see its ``_doc``).

Writes (``--check``: writes nothing, exits 1 naming the stale files):
- ``tap-superoffice/tap_superoffice/catalog.json`` (:func:`tap_catalog`);
- ``target-superoffice/target_superoffice/entities.json`` (:func:`target_entities`);
- ``sandbox/connector_sandbox/superoffice/api_catalog.json``: the emulator's catalog, derived on its
  own by ``superoffice_emulator.emulator_catalog`` (the emulator stays independent of the plugins'
  reading of the specs).

Usage: python scripts/generators/superoffice.py [--specs DIR] [--check]
"""

from __future__ import annotations

import json
import re
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import outputs

ROOT = outputs.ROOT
GENERATED_BY = "scripts/generators/superoffice.py"
PROVIDERS_FILE = Path(__file__).resolve().with_name("superoffice_providers.json")
TAP_CATALOG = ROOT / "tap-superoffice" / "tap_superoffice" / "catalog.json"
TARGET_ENTITIES = ROOT / "target-superoffice" / "target_superoffice" / "entities.json"
EMULATOR_CATALOG = ROOT / "sandbox" / "connector_sandbox" / "superoffice" / "api_catalog.json"
SPEC_SOURCE = {"repo": "SuperOfficeDocs/docs", "path": "api-sources/openapi/rest/Swagger-v1-*.json",
               "commit": "f4a09fe23ea3fb40f0b3664ab0616c1485a84c64", "license": "MIT"}

API_PREFIX = "/api/v1"
MAX_PAGE_SIZE = 1000  # [SO-BP]: ~1000 rows a page on key-ordered provider queries
SCHEMA_DEPTH = 3  # nested $refs resolved this deep; deeper ones (and cycles) become {}
ARCHIVE_RE = re.compile(r'Calls the Archive service using the "(\w+)" archive')

# --- judgement calls, each explained in the catalog's _doc -------------------------------------------

# Streams named after the provider's entity where the list path names it differently.
STREAM_NAMES = {"Pricelist": "price_list", "ForeignApp": "foreign_key", "NewsFeed": "news_feed_item"}
# Core CRM streams (the contract's entities a CRM sync is about) are selected by default.
DEFAULT_SELECTED = {"contact", "person", "sale", "project", "appointment", "document", "ticket", "ticket_message",
                    "product", "price_list", "user", "selection"}
# The provider's int id column of its entity. AllUsers has no int user id: associateDbId (restriction
# "associate") is the associate's id. BatchTasks and ForeignKeys have no id column of their row (the rows
# of ForeignKeys are app x device x key outer joins): the answer's own PrimaryKey field. CRMScripts has no
# typed id (ejscriptId is display-only): uniqueIdentifier, the id of GET /Script/{uniqueIdentifier}.
PRIMARY_KEYS = {
    "SimpleContact": "contactId", "Person": "personId", "FindSale": "saleId", "FindProject": "projectId",
    "FindAppointment": "appointmentId", "FindDocument": "documentId", "Ticket": "ticketId",
    "TicketMessage": "ticketMessageId", "Product": "productId", "PriceList": "priceListId",
    "AllUsers": "associateDbId", "FindSelection": "selectionId", "Relation": "relationId",
    "ProjectMember": "projectMemberId", "SaleStakeholder": "saleStakeholderId", "Role": "roleId",
    "ChatSession": "chatSessionId", "NewsFeedItem": "newsFeedItemId", "SystemEvents": "SystemEvent_id",
    "BatchTasks": "PrimaryKey", "ForeignKeys": "PrimaryKey", "Ejscripts": "ejscriptId",
    "CRMScripts": "uniqueIdentifier", "EventHandler": "screenChooserId",
}
ROW_FIELDS = ("PrimaryKey", "EntityName")  # every row of an OData archive answer carries these
# The change column: the first of these the provider has (top level, date or datetime restriction).
CURSOR_CANDIDATES = ("updatedDate", "{entity}UpdatedDate", "lastChanged", "updated")
# TicketMessage has no change column; messages are appended, so their creation time is the cursor.
CURSOR_OVERRIDES = {"TicketMessage": "createdAt"}
DELETED_CANDIDATES = ("deletedDate", "{entity}DeletedDate")
# Columns that are not values of the row: query switches, search criteria, SAINT criteria and the
# per-row statistics computed from other entities' rows on every query.
QUERY_ONLY_COLUMNS = {"getAllRows", "getNoRows", "selectionIdRequest", "selectionMemberId",
                      "skipTentativeAndRejectedRestriction", "content"}
QUERY_ONLY_RESTRICTIONS = {"listInterest", "saintStatus"}
STATISTICS_RE = re.compile(r"^(NumberOf\w+|Last(DoBy|Completed)?(Activity|Sale|Ticket)|saint\w+)$")

# RestrictionType -> JSON type ([SO-RT] en/api/archive-providers/restriction-types.md). The OData JSON
# answer gives numbers for decimals; associate/list*/userGroup/... give their display text.
RESTRICTION_TYPES = {"int": "integer", "decimal": "number", "double": "number", "bool": "boolean",
                     "date": "date-time", "datetime": "date-time", "string": "string", "stringorPK": "string"}
# List columns that answer the related row's id, not its display text (the docs' sample rows:
# "contactId": 8989 in a sale row), and timeSpan columns, which answer a number of minutes.
ID_LIST_COLUMNS = {"contactId", "personId", "projectId", "saleId"}
SWAGGER_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean", "string": "string"}
# Which provider restrictions a $filter on an entity property of this JSON type can use.
FILTERABLE = {"string": {"string", "stringorPK", "positiveString"}, "integer": {"int"},
              "number": {"decimal", "double"}, "boolean": {"bool"}, "date-time": {"date", "datetime"}}
# Entity property -> provider column pairs whose names differ, each justified by the Swagger property
# description and the provider column's label/description (quoted in the entities' _doc).
EXPLICIT_LOOKUP_PAIRS: dict[str, dict[str, str]] = {
    "ContactEntity": {"Number1": "number", "Xstop": "stop", "NoMailing": "contactNoMail",
                      "CreatedDate": "registeredDate"},
    "PersonEntity": {"UpdatedDate": "personUpdatedDate", "CreatedDate": "personRegisteredDate",
                     "NoMailing": "personNoMail", "UsePersonAddress": "useAsMailingAddress",
                     "Kanafname": "kanaFirstName", "Kanalname": "kanaLastName"},
    "SaleEntity": {"Saledate": "date", "Number": "saleNumber", "Probability": "probPercent",
                   "CreatedDate": "registeredDate"},
    "ProjectEntity": {"ProjectNumber": "number", "CreatedDate": "registeredDate",
                      "NextMilestoneDate": "nextMilestone"},
    "AppointmentEntity": {"StartDate": "date", "HasAlarm": "alarm", "CreatedDate": "registeredDate"},
    "DocumentEntity": {"CreatedDate": "registeredDate"},
    "TicketEntity": {"Activate": "activated", "HasAttachment": "has_attachment", "NumReplies": "numberOfReplies",
                     "NumMessages": "numberOfMessages"},
    "Product": {"UnitCost": "cost", "UnitMinimumPrice": "minimumPrice", "UnitListPrice": "listPrice"},
}
# The Swagger says a property is read-only in its description only (no readOnly flags in the files).
READ_ONLY_RE = re.compile(r"property is read-only|read-only (field|property)|read only property|readonly fields?"
                          r"|^read-only\b|\(read-only\)|treat this as a read-only field|read-only for external use"
                          r"|is a read-only property", re.I)

CATALOG_DOC = (
    "Stream catalog of tap-superoffice, generated by scripts/generators/superoffice.py from the REST WebAPI "
    "Swagger files (SuperOfficeDocs/docs api-sources/openapi/rest) and the archive-provider reference pages "
    "(scripts/generators/superoffice_providers.json); never edit by hand. "
    "Provider streams: one per top-level GET list endpoint whose Swagger description names its archive "
    "provider; they read GET {path}?$select={columns}&$orderby={primary_key}, $top <= max_page_size and $skip "
    "or keyset paging ([SO-BP]). Names: the list path in snake case, except price_list, foreign_key and "
    "news_feed_item (named after the provider's entity). entity = the provider's first Supported Entity. "
    "columns = the provider's columns that are plain values of the row's own entity; left out: names with '/' "
    "(related entities, user-defined and extra fields reached through sub-paths), restriction null (display-only "
    "columns, e.g. mainContact, fullNameWithContact), the query switches getAllRows/getNoRows, the 'Dummy' "
    "column forceCompany, search criteria (selectionIdRequest, selectionMemberId, "
    "skipTentativeAndRejectedRestriction, Ticket content, listInterest interest criteria), the SAINT criteria "
    "(saint*, SaintStatus*) and the per-row statistics (NumberOf*, Last*Activity/Sale/Ticket, computed from "
    "other entities' rows on every query). primary_key: the provider's int id column of its entity; user: "
    "associateDbId (the associate id, restriction associate, typed integer here); batch_task and foreign_key: "
    "the answer's PrimaryKey row field (no id column of their own; foreign_key rows are app x device x key "
    "joins); script: uniqueIdentifier (ejscriptId is display-only in CRMScripts). replication_key: updatedDate, "
    "else <entity>UpdatedDate (personUpdatedDate), else lastChanged (ticket), else updated (project_member); "
    "ticket_message: createdAt (the provider has no change column; messages are appended); null where none "
    "(relation, sale_stakeholder, user, system_event, foreign_key). replication_restriction: that column's "
    "restriction type: 'date' columns compare on the date only ([SO-RT]). deleted_column: deletedDate "
    "(contact), personDeletedDate (person), else null. selected_by_default: the core CRM streams contact, "
    "person, sale, project, appointment, document, ticket, ticket_message, product, price_list, user, "
    "selection; the administrative/technical ones (relation, project_member, sale_stakeholder, role, "
    "chat_session, news_feed_item, system_event, batch_task, foreign_key, crm_script, script, trigger_script) "
    "and the lookup lists are opt-in. Provider stream schemas: restriction int -> integer, decimal/double -> "
    "number, bool -> boolean, date/datetime -> date-time string, string/stringorPK -> string, timeSpan -> "
    "integer (minutes), the list columns contactId/personId/projectId/saleId -> integer (the related row's id, "
    "as in the docs' sample rows), every other restriction (associate, listAny, userGroup, positiveString, "
    "ejUser, ...) -> string (display text); all nullable except the primary key; "
    "plus the row fields PrimaryKey and EntityName; "
    "additionalProperties true (tenant-defined fields). Lookup streams list_<name>: every GET "
    "/List/{name}/Items of Swagger-v1-List.json (all items, no paging); primary_key Id, else <Model>Id. "
    "get_templates: every GET path of the Swagger files whose 200 answer is a definition (or an array of one, "
    "listed in get_template_arrays) -> the definition's short name, for custom streams. schemas: per "
    "provider stream (by stream name) and per definition (by short name): $refs resolved to depth 3 (deeper "
    "and recursive ones {}), swagger int32/int64 -> integer, double/float -> number, date-time -> date-time "
    "string, all nullable but the lookup keys. Sources (github.com/SuperOfficeDocs/docs, MIT): [SO-BP] "
    "en/developer-portal/best-practices/index.mdx (paging, page size ~1000); [SO-RT] "
    "en/api/archive-providers/restriction-types.md; [SO-AP] en/api/archive-providers/reference/*.md (columns)."
)
ENTITIES_DOC = (
    "Writable endpoints of the REST WebAPI for target-superoffice, generated by scripts/generators/superoffice.py "
    "from the Swagger files and superoffice_providers.json; never edit by hand. endpoints: every collection "
    "(/X, /List/X/Items) and item (/X/{id}, /List/X/Items/{id}) path of the 54 REST files that has POST, PUT or "
    "DELETE, with its Swagger methods, PATCH added on items that have PUT (JSON Patch / Merge Patch work on "
    "entity items though the Swagger omits them [SO-REST]); model: the POST (collection) or PUT (item) body, "
    "else the GET answer; item: the collection's item path (the one with PUT when the Swagger has two); key: the "
    "model property holding the item id. lookup (collections backed by an archive provider): provider, its key "
    "column and entity property -> provider column pairs usable in $filter: case-insensitive name equality "
    "with compatible types (string<->string/stringorPK/positiveString, integer<->int, number<->decimal, "
    "boolean<->bool, date-time<->date/datetime), plus explicit pairs, each from the property's Swagger "
    "description and the column's doc label: ContactEntity Number1 ('Alphanumeric user field')->number "
    "('Number'), Xstop ('STOP flag')->stop ('Stop'), NoMailing ('Spam filter...')->contactNoMail ('No mailings "
    "(company)'), CreatedDate ('Date registered in UTC')->registeredDate; PersonEntity UpdatedDate/CreatedDate->"
    "personUpdatedDate/personRegisteredDate, NoMailing->personNoMail, UsePersonAddress ('...used as mailing "
    "address')->useAsMailingAddress ('Use as postal address'), Kanafname/Kanalname->kanaFirstName/kanaLastName; "
    "SaleEntity Saledate ('(expected / lost / won) sales date')->date ('...sale date of a sale'), Number->"
    "saleNumber ('Number'), Probability->probPercent ('Probability as %'), CreatedDate->registeredDate; "
    "ProjectEntity ProjectNumber->number, CreatedDate->registeredDate, NextMilestoneDate->nextMilestone; "
    "AppointmentEntity StartDate ('date + start time planned')->date ('Displays start date of a follow-up'), "
    "HasAlarm->alarm ('Has alarm'), CreatedDate->registeredDate; DocumentEntity CreatedDate->registeredDate; "
    "TicketEntity Activate ('When the ticket should be activated, if it is postponed')->activated ('Postponed "
    "to'), HasAttachment->has_attachment, NumReplies/NumMessages->numberOfReplies/numberOfMessages; Product "
    "UnitCost/UnitMinimumPrice/UnitListPrice->cost/minimumPrice/listPrice. models: the body models, $refs "
    "resolved to depth 3, enums kept, every property nullable. read_only: the properties whose Swagger "
    "description says read-only (the files carry no readOnly flags); empty where it says nothing. streams: tap "
    "stream -> the collection it is written to by default (those with POST). column_properties: tap column -> "
    "entity property of that collection's model where the names differ at most in case and the column's "
    "restriction fits the property's type (as for lookups). Sources (github.com/SuperOfficeDocs/docs, MIT): "
    "[SO-REST] en/api/web-services/endpoints/rest-webapi/index.mdx (PATCH with JSON Patch / Merge Patch); the "
    "Swagger files api-sources/openapi/rest/Swagger-v1-*.json; [SO-AP] en/api/archive-providers/reference/*.md."
)


# --- loading ---------------------------------------------------------------------------------------------

@dataclass
class Specs:
    """The REST Swagger files: operations by path (without /api/v1) and definitions by short name."""

    paths: dict[str, dict[str, t.Any]]
    definitions: dict[str, dict[str, t.Any]]


def short(ref: str) -> str:
    """``#/definitions/SuperOffice.CRM.Services.ContactEntity`` -> ``ContactEntity``."""
    return ref.rsplit("/", 1)[-1].rsplit(".", 1)[-1]


def load_specs(specs_dir: Path) -> Specs:
    files = sorted((specs_dir / "rest").glob("Swagger-v1-*.json"))
    if not files:
        raise SystemExit(f"no Swagger-v1-*.json under {specs_dir / 'rest'}")
    paths: dict[str, dict[str, t.Any]] = {}
    full_names: dict[str, str] = {}
    definitions: dict[str, dict[str, t.Any]] = {}
    for file in files:
        doc = json.loads(file.read_text(encoding="utf-8"))
        for path, ops in doc["paths"].items():
            paths[path.removeprefix(API_PREFIX)] = {method.upper(): op for method, op in ops.items()}
        for name, definition in doc.get("definitions", {}).items():
            if full_names.setdefault(short(name), name) != name:
                raise SystemExit(f"two definitions named {short(name)}: {full_names[short(name)]}, {name}")
            definitions[short(name)] = definition
    return Specs(paths, definitions)


def load_providers(path: Path = PROVIDERS_FILE) -> dict[str, t.Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- Swagger -> JSON schema --------------------------------------------------------------------------------

def nullable(kind: str | list[str]) -> list[str]:
    return [kind, "null"] if isinstance(kind, str) else kind


def property_schema(prop: dict[str, t.Any], specs: Specs, depth: int, seen: tuple[str, ...],
                    enums: bool) -> dict[str, t.Any]:
    """One Swagger property as a nullable JSON schema, $refs resolved up to SCHEMA_DEPTH."""
    if "$ref" in prop:
        return definition_schema(short(prop["$ref"]), specs, depth + 1, seen, enums)
    kind = prop.get("type")
    if kind == "array":
        return {"type": nullable("array"), "items": property_schema(prop.get("items") or {}, specs, depth, seen, enums)}
    if kind == "object":
        out: dict[str, t.Any] = {"type": nullable("object")}
        if "additionalProperties" in prop:
            out["additionalProperties"] = property_schema(prop["additionalProperties"], specs, depth, seen, enums)
        return out
    if kind not in SWAGGER_TYPES:
        return {}
    out = {"type": nullable(SWAGGER_TYPES[kind])}
    if kind == "string" and prop.get("format") == "date-time":
        out["format"] = "date-time"
    if enums and "enum" in prop:
        out["enum"] = [*prop["enum"], None]
    return out


def definition_schema(name: str, specs: Specs, depth: int = 0, seen: tuple[str, ...] = (),
                      enums: bool = False, key: str | None = None) -> dict[str, t.Any]:
    """A definition as a JSON object schema; {} past SCHEMA_DEPTH, for cycles and unknown names."""
    if depth > SCHEMA_DEPTH or name in seen or name not in specs.definitions:
        return {}
    props = specs.definitions[name].get("properties", {})
    properties = {field: property_schema(prop, specs, depth, (*seen, name), enums) for field, prop in props.items()}
    if key in properties:
        properties[key] = {k: v for k, v in properties[key].items() if k != "type"} | {
            "type": properties[key]["type"][0]}
    return {"type": "object" if depth == 0 else nullable("object"), "properties": properties}


def model_key(model: str, specs: Specs, *stems: str) -> str | None:
    """The id property of a model: Id or <stem>Id (the path's or the model's name), else the first one
    described as the primary key, else a first property named ...Id."""
    props = specs.definitions.get(model, {}).get("properties", {})
    lower = {p.lower(): p for p in props}
    names = ["Id"] + [f"{stem}Id" for stem in (*stems, re.sub(r"(Entity)?(WithLinks)?$", "", model))]
    found = next((lower[n.lower()] for n in names if n.lower() in lower), None)
    described = [p for p, prop in props.items() if (prop.get("description") or "").startswith("Primary key")]
    first = next(iter(props), None)
    first_id = first if first and first.endswith("Id") and props[first].get("type") == "integer" else None
    return found or next(iter(described), None) or first_id


def item_key(model: str, param: str, specs: Specs, stem: str) -> str | None:
    """The model property an item path's parameter names: the property of that name, else the model's id
    for id-like parameters ({id}, {roleIdToDelete}), else UniqueIdentifier for unique-id ones."""
    props = specs.definitions.get(model, {}).get("properties", {})
    lower = {p.lower(): p for p in props}
    if param.lower() in lower:
        return lower[param.lower()]
    if "unique" in param.lower():
        return next((lower[n] for n in ("uniqueidentifier", "uniqueid") if n in lower), None)
    return model_key(model, specs, stem) if "id" in param.lower() else None


def answer_ref(op: dict[str, t.Any]) -> tuple[str, bool] | None:
    """The definition a GET answers with (short name) and whether it is an array of it."""
    schema = op.get("responses", {}).get("200", {}).get("schema") or {}
    if "$ref" in schema:
        return short(schema["$ref"]), False
    if schema.get("type") == "array" and "$ref" in (schema.get("items") or {}):
        return short(schema["items"]["$ref"]), True
    return None


def body_ref(op: dict[str, t.Any]) -> str | None:
    for param in op.get("parameters", []):
        if param.get("in") == "body" and "$ref" in (param.get("schema") or {}):
            return short(param["schema"]["$ref"])
    return None


# --- tap catalog -------------------------------------------------------------------------------------------

def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def provider_list_endpoints(specs: Specs, providers: dict[str, t.Any]) -> dict[str, str]:
    """Top-level GET list paths -> the archive provider their Swagger description names."""
    out = {}
    for path, ops in sorted(specs.paths.items()):
        match = ARCHIVE_RE.search(ops.get("GET", {}).get("description", ""))
        if re.fullmatch(r"/[A-Za-z]+", path) and match:
            if match.group(1) not in providers:
                raise SystemExit(f"{path}: provider {match.group(1)} is not in {PROVIDERS_FILE.name}")
            out[path] = match.group(1)
    return out


def first_column(columns: dict[str, t.Any], candidates: t.Iterable[str], entity: str,
                 restrictions: t.Container[str]) -> str | None:
    lower = {c.lower(): c for c, info in columns.items() if "/" not in c and info["restriction"] in restrictions}
    return next((lower[c.format(entity=entity).lower()] for c in candidates
                 if c.format(entity=entity).lower() in lower), None)


def is_row_value(name: str, info: dict[str, t.Any]) -> bool:
    """A column $select asks for: a plain value of the row's own entity (see CATALOG_DOC)."""
    return ("/" not in name and info["restriction"] is not None and name not in QUERY_ONLY_COLUMNS
            and info["restriction"] not in QUERY_ONLY_RESTRICTIONS and not STATISTICS_RE.match(name)
            and not info["description"].startswith("Dummy"))


def column_schema(restriction: str | None, *, key: bool = False, name: str = "") -> dict[str, t.Any]:
    if key and restriction == "associate" or restriction == "timeSpan" or (
            restriction in ("listAny", "associate") and name in ID_LIST_COLUMNS):
        kind = "integer"
    else:
        kind = RESTRICTION_TYPES.get(restriction or "", "string")
    out: dict[str, t.Any] = {"type": "string" if kind == "date-time" else kind}
    if kind == "date-time":
        out["format"] = "date-time"
    if not key:
        out["type"] = nullable(out["type"])
    return out


def provider_stream(path: str, provider: str, facts: dict[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """The stream reading ``path`` through ``provider``, and its schema."""
    columns = facts["columns"]
    entity = facts["entities"][0]
    key = PRIMARY_KEYS[provider]
    if key not in ROW_FIELDS and (key not in columns or columns[key]["restriction"] is None):
        raise SystemExit(f"{provider}: key column {key} missing or display-only")
    cursor = CURSOR_OVERRIDES.get(provider) or first_column(columns, CURSOR_CANDIDATES, entity, ("date", "datetime"))
    deleted = first_column(columns, DELETED_CANDIDATES, entity, ("date", "datetime"))
    selected = [c for c, info in columns.items() if is_row_value(c, info)]
    for needed in (key, cursor, deleted):
        if needed and needed not in ROW_FIELDS and needed not in selected:
            selected.append(needed)
    name = STREAM_NAMES.get(path[1:], snake(path[1:]))
    properties = {c: column_schema(columns[c]["restriction"], key=c == key, name=c) for c in selected}
    for field in ROW_FIELDS:
        properties[field] = {"type": "string" if field == key else ["string", "null"]}
    stream = {
        "name": name, "path": path, "provider": provider, "entity": entity, "primary_key": key,
        "replication_key": cursor, "replication_restriction": columns[cursor]["restriction"] if cursor else None,
        "deleted_column": deleted, "columns": selected, "selected_by_default": name in DEFAULT_SELECTED,
        "paginate": True,
    }
    return stream, {"type": "object", "properties": properties, "additionalProperties": True}


def lookup_streams(specs: Specs) -> list[dict[str, t.Any]]:
    """One stream per ``GET /List/{name}/Items`` (all items of a lookup list, one request)."""
    streams = []
    for path, ops in sorted(specs.paths.items()):
        match = re.fullmatch(r"/List/([A-Za-z]+)/Items", path)
        answer = answer_ref(ops["GET"]) if match and "GET" in ops else None
        if match and answer:
            model = answer[0]
            streams.append({"name": f"list_{snake(match.group(1))}", "path": path, "model": model,
                            "primary_key": model_key(model, specs), "replication_key": None,
                            "replication_restriction": None, "deleted_column": None,
                            "selected_by_default": False, "paginate": False})
    return streams


def get_templates(specs: Specs) -> tuple[dict[str, str], list[str]]:
    """Every GET path whose 200 answer is a definition -> its short name; and those answering arrays."""
    templates, arrays = {}, []
    for path, ops in sorted(specs.paths.items()):
        answer = answer_ref(ops["GET"]) if "GET" in ops else None
        if answer:
            templates[path] = answer[0]
            if answer[1]:
                arrays.append(path)
    return templates, arrays


def tap_catalog(specs: Specs, providers: dict[str, t.Any]) -> dict[str, t.Any]:
    facts = providers["providers"]
    streams, schemas = [], {}
    for path, provider in provider_list_endpoints(specs, facts).items():
        stream, schema = provider_stream(path, provider, facts[provider])
        streams.append(stream)
        schemas[stream["name"]] = schema
    lookups = lookup_streams(specs)
    templates, arrays = get_templates(specs)
    keys = {s["model"]: s["primary_key"] for s in lookups}
    for model in sorted({*templates.values(), *keys}):
        schemas[model] = definition_schema(model, specs, key=keys.get(model))
    return {
        "_doc": CATALOG_DOC,
        "generated_by": GENERATED_BY,
        "source": {"specs": SPEC_SOURCE, "providers": providers["source"]},
        "max_page_size": MAX_PAGE_SIZE,
        "streams": streams + lookups,
        "get_templates": templates,
        "get_template_arrays": arrays,
        "schemas": schemas,
    }


# --- target entities ---------------------------------------------------------------------------------------

COLLECTION_RE = re.compile(r"/[A-Za-z]+|/List/([A-Za-z]+|\{\w+\})/Items")
ITEM_RE = re.compile(rf"(?P<collection>{COLLECTION_RE.pattern})/\{{(?P<param>\w+)\}}")
# POST /Archive/{name} is the long form of an archive query (form-encoded options), not a write.
NOT_WRITES = ("/Archive",)


def json_kind(schema: dict[str, t.Any]) -> str | None:
    """The scalar JSON type of a schema (date-time for date-time strings), None for objects and arrays."""
    kinds = [k for k in ([schema.get("type")] if isinstance(schema.get("type"), str) else schema.get("type") or [])
             if k != "null"]
    if kinds in (["string"], ["integer"], ["number"], ["boolean"]):
        return "date-time" if schema.get("format") == "date-time" else kinds[0]
    return None


def lookup_columns(model: str, specs: Specs, columns: dict[str, t.Any]) -> dict[str, str]:
    """Entity property -> provider column usable in $filter (see ENTITIES_DOC)."""
    props = definition_schema(model, specs).get("properties", {})
    usable = {c: info for c, info in columns.items() if is_row_value(c, info) or c in EXPLICIT_LOOKUP_PAIRS.get(
        model, {}).values()}
    lower = {c.lower(): c for c in usable}
    pairs = {p: lower[p.lower()] for p in props if p.lower() in lower}
    pairs.update({p: c for p, c in EXPLICIT_LOOKUP_PAIRS.get(model, {}).items() if p in props and c in usable})
    return {p: c for p, c in pairs.items()
            if usable[c]["restriction"] in FILTERABLE.get(json_kind(props[p]) or "", ())}


def target_entities(specs: Specs, providers: dict[str, t.Any], catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    facts = providers["providers"]
    by_path = {s["path"]: s for s in catalog["streams"]}
    endpoints: dict[str, dict[str, t.Any]] = {}
    for path, ops in sorted(specs.paths.items()):
        item = ITEM_RE.fullmatch(path)
        writable = {"POST", "PUT", "DELETE"} & set(ops)
        if not writable or not (item or COLLECTION_RE.fullmatch(path)) or path.startswith(NOT_WRITES):
            continue
        methods = set(ops) | ({"PATCH"} if item and "PUT" in ops else set())
        body = body_ref(ops.get("PUT" if item else "POST", {}))
        answer = answer_ref(ops["GET"]) if "GET" in ops else None
        endpoints[path] = {"methods": sorted(methods), "model": body or (answer[0] if answer else None)}
    for path, entry in endpoints.items():  # items without a body or answer (DELETE only): their family's model
        item = ITEM_RE.fullmatch(path)
        if item:
            family = [e["model"] for p, e in endpoints.items()
                      if (m := ITEM_RE.fullmatch(p)) and m.group("collection") == item.group("collection")]
            entry["model"] = entry["model"] or next((m for m in family if m), None)
            stem = item.group("collection").rsplit("/", 1)[-1]
            entry["key"] = item_key(entry["model"], item.group("param"), specs, stem) if entry["model"] else None
    for path, entry in endpoints.items():
        if ITEM_RE.fullmatch(path):
            continue
        items = [p for p in endpoints if (m := ITEM_RE.fullmatch(p)) and m.group("collection") == path]
        if items:
            entry["item"] = next((p for p in items if "PUT" in endpoints[p]["methods"]), items[0])
        stream = by_path.get(path)
        if stream and stream.get("provider") and entry["model"]:
            entry["lookup"] = {"provider": stream["provider"], "key_column": stream["primary_key"],
                               "columns": lookup_columns(entry["model"], specs, facts[stream["provider"]]["columns"])}
    models = {name: definition_schema(name, specs, enums=True)
              for name in sorted({e["model"] for e in endpoints.values() if e["model"]})}
    read_only = {name: [p for p, prop in specs.definitions[name].get("properties", {}).items()
                        if READ_ONLY_RE.search(prop.get("description") or "")] for name in models}
    streams = {s["name"]: s["path"] for s in catalog["streams"]
               if s["path"] in endpoints and "POST" in endpoints[s["path"]]["methods"]}
    column_properties = {}
    for name, path in streams.items():
        stream = by_path[path]
        model = endpoints[path]["model"]
        if not stream.get("provider") or not model:
            continue  # lookup streams carry the entity's own property names
        props = models[model]["properties"]
        lower = {p.lower(): p for p in props}
        columns = facts[stream["provider"]]["columns"]
        pairs = {c: lower[c.lower()] for c in stream["columns"] if c.lower() in lower
                 and columns[c]["restriction"] in FILTERABLE.get(json_kind(props[lower[c.lower()]]) or "", ())}
        if pairs:
            column_properties[name] = pairs
    return {
        "_doc": ENTITIES_DOC,
        "generated_by": GENERATED_BY,
        "source": {"specs": SPEC_SOURCE, "providers": providers["source"]},
        "streams": streams,
        "endpoints": endpoints,
        "models": models,
        "read_only": read_only,
        "column_properties": column_properties,
    }


# --- outputs -----------------------------------------------------------------------------------------------

def render(obj: t.Any) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def emulator_output(specs_dir: Path, providers: dict[str, t.Any]) -> dict[Path, str]:
    """The emulator's catalog, from its own generator module (another part of the project)."""
    try:
        import superoffice_emulator
    except ImportError as error:
        print(f"emulator catalog not written: scripts/generators/superoffice_emulator.py not importable ({error})",
              file=sys.stderr)
        return {}
    catalog = superoffice_emulator.emulator_catalog(specs_dir, providers)
    return {EMULATOR_CATALOG: getattr(superoffice_emulator, "render", render)(catalog)}


def derive(specs_dir: Path) -> dict[Path, str]:
    specs = load_specs(specs_dir)
    providers = load_providers()
    catalog = tap_catalog(specs, providers)
    entities = target_entities(specs, providers, catalog)
    streams = catalog["streams"]
    print(f"superoffice: {len(streams)} streams ({sum(s['selected_by_default'] for s in streams)} selected by "
          f"default, {sum('provider' in s for s in streams)} provider, {sum('model' in s for s in streams)} lookup), "
          f"{len(catalog['get_templates'])} GET templates, {len(entities['endpoints'])} endpoints, "
          f"{len(entities['models'])} models", file=sys.stderr)
    return {TAP_CATALOG: render(catalog), TARGET_ENTITIES: render(entities), **emulator_output(specs_dir, providers)}


if __name__ == "__main__":
    sys.exit(outputs.main(__doc__ or "", "superoffice", derive))
