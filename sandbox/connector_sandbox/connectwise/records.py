"""How a ConnectWise record is generated: identity, references, values, relations between entities.

A base record is a pure function of (seed, collection, id). Per collection a plan is built once
(:class:`_Gen`): 32 record variants with generic values from the model's types, max lengths and enums,
and per-record rules that set the id, the identity fields, ``_info``, references (resolvable: the
referenced record exists and, for nested references such as a ticket's status, belongs to the right
parent) and the relational touches of the core entities (tickets, time entries, contacts, ...).
:class:`RecordGenerator` is mixed into :class:`~.data.DataStore`, which supplies sizes, timestamps and
the overlay of writes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from ..seeding import mix, row_rand, stable_hash
from . import pools
from .catalog import Collection, Field, Model, norm_template

VARIANTS = 32
DATA_START = 1546300800  # 2019-01-01T00:00:00Z
DATA_END = 1735689600  # 2025-01-01T00:00:00Z
LAG = 2 * 86400  # lastUpdated trails dateEntered by ~2 days (+ jitter below one step)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))



# Reference model -> collection it points to (beyond the automatic XReference -> X mapping).
REF_TARGETS = {
    "CompanyReference": "/company/companies", "ContactReference": "/company/contacts",
    "MemberReference": "/system/members", "BoardReference": "/service/boards",
    "TicketReference": "/service/tickets", "ProjectReference": "/project/projects",
    "AgreementReference": "/finance/agreements", "OpportunityReference": "/sales/opportunities",
    "ActivityReference": "/sales/activities", "InvoiceReference": "/finance/invoices",
    "ConfigurationReference": "/company/configurations", "PriorityReference": "/service/priorities",
    "WorkRoleReference": "/time/workroles", "WorkTypeReference": "/time/worktypes",
    "CurrencyReference": "/finance/currencies", "CountryReference": "/company/countries",
    "SystemLocationReference": "/system/locations", "SystemDepartmentReference": "/system/departments",
    "OwnerLevelReference": "/system/locations", "BillingUnitReference": "/system/departments",
    "ServiceSourceReference": "/service/sources", "ServiceLocationReference": "/service/locations",
    "SecurityRoleReference": "/system/securityroles", "ProjectBoardReference": "/service/boards",
}
# Reference model -> (nested collection, field of the same record that names the parent).
NESTED_REFS = {
    "ServiceStatusReference": ("/service/boards/{}/statuses", "board"),
    "ServiceTypeReference": ("/service/boards/{}/types", "board"),
    "ServiceSubTypeReference": ("/service/boards/{}/subtypes", "board"),
    "ServiceTeamReference": ("/service/boards/{}/teams", "board"),
    "SiteReference": ("/company/companies/{}/sites", "company"),
    "ProjectPhaseReference": ("/project/projects/{}/phases", "project"),
}
HREF_KEYS = {"ServiceStatusReference": "status_href", "ProjectBoardReference": "board_href",
             "SystemLocationReference": "location_href", "SystemDepartmentReference": "department_href",
             "OwnerLevelReference": "location_href", "BillingUnitReference": "department_href"}
# Collections whose records belong to a company round-robin (company = ((id-1) % companies) + 1),
# so other records can pick a contact/agreement of *their* company.
OWNED_BY_COMPANY = {"/company/contacts", "/company/configurations", "/finance/agreements",
                    "/project/projects", "/sales/opportunities"}
# Optional reference fields that core records always carry.
ALWAYS = {
    "/service/tickets": {"board", "status", "company", "contact", "owner", "priority", "type", "source"},
    "/project/tickets": {"board", "status", "company", "project", "phase", "owner", "priority"},
    "/time/entries": {"company", "member", "ticket", "workType", "workRole"},
    "/company/contacts": {"company"},
    "/company/configurations": {"company", "contact", "status"},
    "/service/boards/{}/statuses": {"board"},
    "/company/companies": {"status", "country"},
    "/sales/opportunities": {"company", "contact", "status"},
    "/sales/activities": {"company", "contact", "status", "type"},
    "/schedule/entries": {"member", "status", "type"},
    "/finance/invoices": {"company", "status"},
    "/finance/agreements": {"company", "contact", "type"},
    "/project/projects": {"company", "board", "manager", "status"},
}
IDENT_FIELDS = ("name", "identifier", "summary", "firstName", "lastName")


class _Gen:
    """Per-collection generation plan: record variants + per-record override rules."""

    def __init__(self, salt: int, variants: list[dict[str, Any]], rules: list[tuple[str, Callable]]) -> None:
        self.salt = salt
        self.variants = variants
        self.rules = rules



class RecordGenerator:
    """Generation of base records (mixed into the store; uses its sizes, timestamps and overlay)."""

    # ------------------------------------------------------------------ identity & references
    def ident(self, coll: Collection, rid: int) -> dict[str, Any]:
        """Identity fields (name/identifier/summary/...) of a record, cheap and deterministic."""
        key = coll.norm
        r = self.rand(coll, rid)
        rec = self.written(key, rid)
        if rec is not None:
            return {k: rec[k] for k in IDENT_FIELDS if k in rec}
        if key == "/company/companies":
            a, n, s = pools.ADJ[r % 20], pools.NOUN[(r >> 8) % 20], pools.SUFFIX[(r >> 16) % 8]
            return {"name": f"{a} {n} {s}", "identifier": f"{a}{n}{rid}"[:30]}
        if key in ("/system/members", "/company/contacts"):
            first, last = pools.FIRST[r % 32], pools.LAST[(r >> 8) % 32]
            out = {"firstName": first, "lastName": last, "name": f"{first} {last}"}
            if key == "/system/members":
                base = (first[0] + last.replace(" ", "").replace("'", "")).replace("ü", "u")
                out["identifier"] = base[: 15 - len(str(rid))] + str(rid)
            return out
        if key in ("/service/tickets", "/project/tickets"):
            return {"summary": pools.TICKET_SUMMARIES[r % len(pools.TICKET_SUMMARIES)]}
        if key == "/service/boards":
            return {"name": _numbered(pools.BOARD_NAMES, rid)}
        if key == "/service/boards/{}/statuses":
            k = self.size(coll) or 1
            return {"name": _numbered(pools.STATUS_NAMES, (rid - 1) % k + 1)}
        if key == "/project/projects":
            return {"name": pools.PROJECT_NAMES[r % len(pools.PROJECT_NAMES)]}
        if key == "/finance/agreements":
            return {"name": pools.AGREEMENT_NAMES[r % len(pools.AGREEMENT_NAMES)]}
        if key == "/sales/opportunities":
            return {"name": pools.OPPORTUNITY_NAMES[r % len(pools.OPPORTUNITY_NAMES)]}
        if key == "/sales/activities":
            return {"name": pools.ACTIVITY_NAMES[r % len(pools.ACTIVITY_NAMES)]}
        if key == "/company/configurations":
            return {"name": f"{pools.CONFIG_PREFIXES[r % 8]}-{rid:05d}"}
        if key in pools.NAME_POOLS:
            name = _numbered(pools.NAME_POOLS[key], rid)
            return {"name": name, "identifier": "".join(ch for ch in name if ch.isalnum())[:10] + str(rid)}
        model = coll.model
        out = {}
        if "name" in model.by_name:
            out["name"] = f"{model.display} {rid}"
        if "identifier" in model.by_name:
            out["identifier"] = f"{model.name[:10]}{rid}"
        if "summary" in model.by_name:
            out["summary"] = f"{model.display} {rid}"
        return out

    def member_identifier(self, r: int) -> str:
        m = self._member_coll
        n = self.size(m)
        if n <= 0:
            return self.api_member
        return self.ident(m, 1 + r % n).get("identifier", self.api_member)

    def href(self, coll: Collection, rid: int, scope: int | None = None) -> str:
        path = coll.template
        if coll.nested:
            if scope is None:
                scope = self.parent_of(coll, rid)
            parts = path.split("/")
            idx = max(i for i, s in enumerate(parts) if s.startswith("{"))
            parts[idx] = str(scope)
            path = "/".join(parts)
        return f"{self.base_href}{path}/{rid}"

    def ref(self, ref_model: Model, coll: Collection, rid: int, scope: int | None = None) -> dict[str, Any]:
        slot = self._refcache.get((coll.norm, rid))
        if slot is not None:
            cached = slot.get(ref_model.name)
            if cached is not None:
                return cached
        out: dict[str, Any] = {"id": rid}
        ident = self.ident(coll, rid)
        for k in ("identifier", "name", "summary"):
            if k in ref_model.by_name and k in ident:
                v = ident[k]
                f = ref_model.by_name[k]
                out[k] = v[: f.max_len] if f.max_len else v
        if "_info" in ref_model.by_name:
            hk = HREF_KEYS.get(ref_model.name) or (ref_model.name[:1].lower() + ref_model.name[1:-9] + "_href")
            out["_info"] = {hk: self.href(coll, rid, scope)}
        if slot is None:
            if len(self._refcache) > 20_000:
                self._refcache.clear()
            slot = self._refcache[(coll.norm, rid)] = {}
        slot[ref_model.name] = out
        return out

    def ref_target(self, ref_name: str | None) -> tuple[Collection | None, str | None]:
        if not ref_name:
            return None, None
        if ref_name in NESTED_REFS:
            path, parent_field = NESTED_REFS[ref_name]
            return self.catalog.collections.get(norm_template(path)), parent_field
        if ref_name in REF_TARGETS:
            return self.catalog.collections.get(norm_template(REF_TARGETS[ref_name])), None
        if ref_name.endswith("Reference"):
            c = self.catalog.top_level_by_model.get(ref_name[:-9])
            if c is not None:
                return c, None
        return None, None

    # ------------------------------------------------------------------ generation plan
    def _gen(self, coll: Collection) -> _Gen:
        g = self._gens.get(coll.norm)
        if g is None:
            with self.lock:
                g = self._gens.get(coll.norm)
                if g is None:
                    g = self._build_gen(coll)
                    self._gens[coll.norm] = g
        return g

    def _build_gen(self, coll: Collection) -> _Gen:
        salt = self.salt(coll.norm)
        model = coll.model
        rng = random.Random(stable_hash(self.seed, "variants", coll.norm))
        variants = []
        for _ in range(VARIANTS):
            v: dict[str, Any] = {}
            if "id" in model.by_name:
                v["id"] = 0  # set per record; keeps "id" the first key
            for f in model.fields:
                if f.post_only or f.kind in ("info", "file") or f.name == "id":
                    continue
                if not f.required and rng.random() < 0.15:
                    continue
                val = self._gen_value(f, rng, 0, coll)
                if val is not None:
                    v[f.name] = val
            variants.append(v)
        rules = self._build_rules(coll)
        return _Gen(salt, variants, rules)

    def _gen_value(self, f: Field, rng: random.Random, depth: int, coll: Collection | None) -> Any:
        kind = f.kind
        if f.enum:
            return rng.choice(f.enum)
        if kind == "string":
            return _gen_string(f, rng)
        if kind == "integer":
            n = f.lname
            if n.endswith("id"):
                return rng.randint(1, 5) if rng.random() < 0.5 else None
            if "year" in n:
                return rng.randint(2010, 2024)
            if "sort" in n or "sequence" in n or "order" in n:
                return rng.randint(1, 20)
            return rng.randint(0, 100)
        if kind == "number":
            return round(rng.uniform(0, 500), 2)
        if kind == "boolean":
            return rng.random() < 0.3
        if kind == "datetime":
            return iso(DATA_START + rng.randrange(DATA_END - DATA_START))
        if kind == "object":
            if depth >= 2 or not f.ref:
                return None
            sub = self.catalog.models.get(f.ref)
            if sub is None:
                return None
            target, _ = self.ref_target(f.ref)
            if target is not None or f.ref.endswith("Reference"):
                # placeholder reference; resolvable ones are replaced per record by a rule
                rid = rng.randint(1, 3)
                out: dict[str, Any] = {"id": rid} if "id" in sub.by_name else {}
                if "name" in sub.by_name:
                    out["name"] = f"{sub.display.replace(' Reference', '')} {rid}"
                if "identifier" in sub.by_name:
                    out["identifier"] = f"{sub.name[:8]}{rid}"
                return out or None
            return {sf.name: val for sf in sub.fields
                    if sf.kind not in ("info", "file") and not sf.post_only
                    and (val := self._gen_value(sf, rng, depth + 1, None)) is not None} or None
        if kind == "array":
            if f.ref == "CustomFieldValue":
                return _custom_fields(rng)
            if f.ref == "ContactCommunicationItem":
                return None  # built per record
            if f.ref in ("integer", "string", "number", "boolean", "any", "datetime"):
                return []
            sub = self.catalog.models.get(f.ref or "")
            if sub is None or depth >= 1:
                return []
            if f.ref and f.ref.endswith("Reference"):
                target, _ = self.ref_target(f.ref)
                if target is not None:
                    return None  # built per record
            return []
        return None

    def _build_rules(self, coll: Collection) -> list[tuple[str, Callable]]:
        model = coll.model
        key = coll.norm
        rules: list[tuple[str, Callable]] = []
        always = ALWAYS.get(key, set())
        late: list[tuple[str, Callable]] = []
        ident_keys = [k for k in IDENT_FIELDS if k in model.by_name]
        if ident_keys:
            def r_ident(rid: int, r: int, rec: dict, _c=coll, _keys=ident_keys, _m=model) -> None:
                ident = self.ident(_c, rid)
                for k in _keys:
                    if k in ident:
                        v = ident[k]
                        ml = _m.by_name[k].max_len
                        rec[k] = v[:ml] if ml else v
            rules.append(("*ident", r_ident))
        parent_model = coll.parent.model if coll.parent is not None else None
        for f in model.fields:
            fsalt = stable_hash("field", f.name)
            name = f.name
            if name == "id" and f.kind == "integer":
                rules.append((name, lambda rid, r, rec: rec.__setitem__("id", rid)))
                continue
            if name == "id":
                # A model whose id is not an integer (e.g. UserEmail: a string) gets its id in
                # that type, so records match the documented model.
                rules.append((name, lambda rid, r, rec: rec.__setitem__("id", str(rid))))
                continue
            if f.kind == "info":
                def r_info(rid: int, r: int, rec: dict, _c=coll) -> None:
                    rec["_info"] = {
                        "lastUpdated": iso(self.updated_ts(_c, rid, r)),
                        "updatedBy": self.member_identifier(mix(r ^ 0x5555)),
                        "dateEntered": iso(self.entered_ts(_c, rid)),
                        "enteredBy": self.member_identifier(mix(r ^ 0xAAAA)),
                    }
                late.append((name, r_info))
                continue
            # link to the parent record in nested collections
            if coll.parent is not None and parent_model is not None:
                if f.kind == "integer" and f.lname in (parent_model.name.lower() + "id", "parentid"):
                    rules.append((name, lambda rid, r, rec, _c=coll, _n=name: rec.__setitem__(_n, self.parent_of(_c, rid))))
                    continue
                target, _ = self.ref_target(f.ref) if f.kind == "object" else (None, None)
                if target is not None and target is coll.parent:
                    sub = self.catalog.models.get(f.ref or "")
                    if sub is not None:
                        def r_parent(rid: int, r: int, rec: dict, _c=coll, _n=name, _s=sub) -> None:
                            p = self.parent_of(_c, rid)
                            rec[_n] = self.ref(_s, _c.parent, p)
                        rules.append((name, r_parent))
                        continue
            if f.kind == "object" and f.ref:
                target, parent_field = self.ref_target(f.ref)
                sub = self.catalog.models.get(f.ref)
                if target is None or sub is None:
                    continue
                optional = not (f.required or name in always)
                if parent_field is None:
                    owned = target.norm in OWNED_BY_COMPANY and "company" in model.by_name and key != target.norm
                    if key in OWNED_BY_COMPANY and name == "company":
                        def r_owner(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name) -> None:
                            n = self.size(_t)
                            if n > 0:
                                rec[_n] = self.ref(_s, _t, (rid - 1) % n + 1)
                        rules.append((name, r_owner))
                        continue

                    self_ref = target is coll

                    def r_ref(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _fs=fsalt,
                              _opt=optional, _owned=owned, _self=self_ref) -> None:
                        x = mix(r ^ _fs)
                        # optional references are absent 1 in 8 times; self-references
                        # (parentCompany, mergedParentTicket) are present only 1 in 16 times
                        if _opt and ((x & 15) != 0 if _self else (x & 7) == 0):
                            rec.pop(_n, None)
                            return
                        if _owned:
                            comp = rec.get("company")
                            if isinstance(comp, dict) and comp.get("id"):
                                tid = self.owned_pick(_t, comp["id"], x >> 8)
                                if tid is None:
                                    rec.pop(_n, None)
                                else:
                                    rec[_n] = self.ref(_s, _t, tid)
                                return
                        n = self.max_base_id(_t)
                        if n <= 0:
                            rec.pop(_n, None)
                            return
                        rec[_n] = self.ref(_s, _t, 1 + (x >> 8) % n)
                    rules.append((name, r_ref))
                else:
                    def r_child(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _pf=parent_field,
                                _fs=fsalt, _opt=optional, _c=coll) -> None:
                        x = mix(r ^ _fs)
                        if _opt and (x & 7) == 0:
                            rec.pop(_n, None)
                            return
                        par = rec.get(_pf)
                        pid = par.get("id") if isinstance(par, dict) else None
                        if pid is None and _t.parent is _c:
                            pid = rid
                        if pid is None:
                            n_par = self.max_base_id(_t.parent) if _t.parent is not None else 0
                            if n_par <= 0:
                                rec.pop(_n, None)
                                return
                            pid = 1 + (x >> 40) % n_par
                        k = self.size(_t)
                        if k <= 0 or (_t.parent is not None and pid > self.max_base_id(_t.parent)):
                            rec.pop(_n, None)
                            return
                        rec[_n] = self.ref(_s, _t, (pid - 1) * k + 1 + (x >> 8) % k, pid)
                    late.append((name, r_child))
                continue
            if f.kind == "datetime" and not f.post_only:
                optional = not f.required

                def r_dt(rid: int, r: int, rec: dict, _c=coll, _n=name, _fs=fsalt, _opt=optional) -> None:
                    x = mix(r ^ _fs)
                    if _opt and (x & 7) == 0:
                        rec.pop(_n, None)
                        return
                    rec[_n] = iso(self.entered_ts(_c, rid) + (x >> 16) % (60 * 86400))
                rules.append((name, r_dt))
                continue
            if f.kind == "array" and f.ref and f.ref.endswith("Reference"):
                target, parent_field = self.ref_target(f.ref)
                sub = self.catalog.models.get(f.ref)
                if target is not None and sub is not None and parent_field is None:
                    def r_arr(rid: int, r: int, rec: dict, _t=target, _s=sub, _n=name, _fs=fsalt) -> None:
                        n = self.max_base_id(_t)
                        rec[_n] = [self.ref(_s, _t, 1 + mix(r ^ _fs) % n)] if n > 0 else []
                    rules.append((name, r_arr))
        rules.extend(late)
        rules.extend(_core_rules(self, coll))
        return rules

    def owned_pick(self, target: Collection, company_id: int, x: int) -> int | None:
        companies = self.size(self.coll("/company/companies"))
        n = self.max_base_id(target)
        if companies <= 0 or company_id > companies or company_id > n:
            return None
        count = (n - company_id) // companies + 1
        return company_id + (x % count) * companies

    # ------------------------------------------------------------------ records
    def base_record(self, coll: Collection, rid: int) -> dict[str, Any]:
        g = self._gen(coll)
        r = row_rand(g.salt, rid)
        rec = dict(g.variants[(r >> 3) % len(g.variants)])
        for _name, fn in g.rules:
            fn(rid, r, rec)
        return rec


def _numbered(pool: list[str], rid: int) -> str:
    if rid <= len(pool):
        return pool[rid - 1]
    return f"{pool[(rid - 1) % len(pool)]} {(rid - 1) // len(pool) + 1}"


def _custom_fields(rng: random.Random) -> list[dict[str, Any]]:
    out = [{"id": 1, "caption": "Region", "type": "Text", "entryMethod": "EntryField", "numberOfDecimals": 0,
            "value": rng.choice(["EMEA", "NA", "APAC"])},
           {"id": 2, "caption": "VIP", "type": "Checkbox", "entryMethod": "EntryField", "numberOfDecimals": 0,
            "value": rng.random() < 0.2}]
    if rng.random() < 0.5:
        out.append({"id": 3, "caption": "Contract Ref", "type": "Text", "entryMethod": "EntryField",
                    "numberOfDecimals": 0})
    return out


def _gen_string(f: Field, rng: random.Random) -> str:
    n = f.lname
    if "email" in n:
        v = f"{rng.choice(pools.FIRST).lower()}.{rng.choice(pools.LAST).lower().replace(' ', '')}@example.com"
    elif "phone" in n or n.startswith("fax"):
        v = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    elif "url" in n or "website" in n or "link" in n:
        v = f"https://www.example.com/{rng.choice(pools.WORDS)}"
    elif n in ("zip", "postalcode") or n.endswith("zip"):
        v = f"{rng.randint(10000, 99999)}"
    elif "city" in n:
        v = rng.choice(pools.CITIES)
    elif n.endswith("state") or n == "stateidentifier":
        v = rng.choice(pools.STATES)
    elif "addressline1" in n:
        v = f"{rng.randint(1, 400)} {rng.choice(pools.STREETS)}"
    elif "addressline2" in n:
        v = f"Suite {rng.randint(1, 50)}"
    elif "country" in n:
        v = rng.choice(["United States", "Netherlands", "United Kingdom"])
    elif "date" in n and "format" not in n:
        v = iso(DATA_START + rng.randrange(DATA_END - DATA_START))
    elif "color" in n or "colour" in n:
        v = "#%06x" % rng.randrange(1 << 24)
    elif "guid" in n:
        v = "%08x-%04x-4%03x-8%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                             rng.getrandbits(12), rng.getrandbits(48))
    elif "ipaddress" in n or n == "defaultgateway":
        v = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    elif "macaddress" in n:
        v = ":".join("%02X" % rng.randrange(256) for _ in range(6))
    elif "serial" in n or "tagnumber" in n or "number" in n:
        v = f"SN{rng.randint(100000, 999999)}"
    elif n.endswith("by") or n.endswith("member") or n.endswith("name") and "user" in n:
        v = (rng.choice(pools.FIRST)[0] + rng.choice(pools.LAST).replace(" ", "").replace("'", "")).replace("ü", "u")
    elif "note" in n or "description" in n or "text" in n or "comment" in n or "message" in n:
        v = rng.choice(pools.NOTE_TEXTS)
    elif "name" in n:
        v = f"{rng.choice(pools.ADJ)} {rng.choice(pools.NOUN)}"
    else:
        v = f"{rng.choice(pools.WORDS).title()} {rng.choice(pools.WORDS)}"
    if f.max_len:
        v = v[: f.max_len]
    return v


def _core_rules(store: Any, coll: Collection) -> list[tuple[str, Callable]]:
    """Relational touches for the core entities (run after the generic rules)."""
    key = coll.norm
    rules: list[tuple[str, Callable]] = []
    if key == "/service/tickets":
        statuses = store.catalog.collections.get("/service/boards/{}/statuses")

        def r_ticket(rid: int, r: int, rec: dict) -> None:
            rec["recordType"] = "ServiceTicket"
            contact = rec.get("contact")
            if isinstance(contact, dict) and contact.get("name"):
                rec["contactName"] = contact["name"]
                rec["contactEmailAddress"] = contact["name"].lower().replace(" ", ".").replace("'", "") \
                    + f"{contact['id']}@example.com"
            site = rec.get("site")
            if isinstance(site, dict) and site.get("name"):
                rec["siteName"] = site["name"]
            st = rec.get("status")
            closed = False
            if isinstance(st, dict) and statuses is not None:
                k = store.size(statuses) or 1
                closed = store.ident(statuses, st["id"]).get("name") in ("Closed", "Resolved") \
                    or (st["id"] - 1) % k == 5
            rec["closedFlag"] = closed
            if closed:
                rec["closedDate"] = iso(store.updated_ts(coll, rid, r) - 3600)
                rec["closedBy"] = store.member_identifier(r >> 5)
            else:
                rec.pop("closedDate", None)
                rec.pop("closedBy", None)
        rules.append(("*ticket", r_ticket))
    elif key == "/project/tickets":
        rules.append(("*pticket", lambda rid, r, rec: rec.__setitem__("recordType", "ProjectTicket")
                      if "recordType" in coll.model.by_name else None))
    elif key == "/time/entries":
        tickets = store.coll("/service/tickets")
        ticket_model = store.catalog.models["TicketReference"]
        company_model = store.catalog.models["CompanyReference"]

        def r_time(rid: int, r: int, rec: dict) -> None:
            n = store.max_base_id(tickets)
            if n <= 0:
                return
            t = 1 + mix(r ^ 0x7777) % n
            rec["chargeToType"] = "ServiceTicket"
            rec["chargeToId"] = t
            rec["ticket"] = store.ref(ticket_model, tickets, t)
            trec_company = _ticket_company(store, tickets, t)
            if trec_company is not None:
                rec["company"] = store.ref(company_model, store.coll("/company/companies"), trec_company)
            for k in ("project", "phase", "ticketBoard", "ticketStatus", "ticketType", "ticketSubType"):
                rec.pop(k, None)
            start = store.entered_ts(coll, rid)
            hours = round(0.25 * (1 + (r >> 12) % 16), 2)
            rec["timeStart"] = iso(start)
            rec["timeEnd"] = iso(start + int(hours * 3600))
            rec["actualHours"] = hours
            rec["notes"] = pools.NOTE_TEXTS[(r >> 24) % len(pools.NOTE_TEXTS)]
        rules.append(("*time", r_time))
    elif key == "/service/tickets/{}/notes":
        def r_note(rid: int, r: int, rec: dict) -> None:
            rec["text"] = pools.NOTE_TEXTS[(r >> 9) % len(pools.NOTE_TEXTS)]
            rec["createdBy"] = store.member_identifier(r >> 13)
            rec["dateCreated"] = iso(store.entered_ts(coll, rid))
        rules.append(("*note", r_note))
    elif key == "/company/contacts":
        def r_contact(rid: int, r: int, rec: dict) -> None:
            first, last = rec.get("firstName", "x"), rec.get("lastName", "y")
            email = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace("ü", "u") + f"{rid}@example.com"
            rec["communicationItems"] = [
                {"id": rid * 2 - 1, "type": {"id": 1, "name": "Email"}, "value": email, "defaultFlag": True,
                 "communicationType": "Email"},
                {"id": rid * 2, "type": {"id": 2, "name": "Direct"}, "value": f"+1 555 {r % 900 + 100} {r % 9000 + 1000}",
                 "defaultFlag": True, "communicationType": "Phone"},
            ]
            rec["inactiveFlag"] = (r >> 7) % 20 == 0
        rules.append(("*contact", r_contact))
    elif key == "/system/members":
        def r_member(rid: int, r: int, rec: dict) -> None:
            first, last = rec.get("firstName", "x"), rec.get("lastName", "y")
            rec["officeEmail"] = f"{first}.{last}".lower().replace(" ", "").replace("'", "").replace("ü", "u")[:40] + "@sandbox-msp.example"
            rec["inactiveFlag"] = False
            rec.pop("password", None)
        rules.append(("*member", r_member))
    elif key == "/service/boards/{}/statuses":
        def r_status(rid: int, r: int, rec: dict) -> None:
            k = store.size(coll) or 1
            pos = (rid - 1) % k
            rec["sortOrder"] = pos
            rec["closedStatus"] = rec.get("name") in ("Closed", "Resolved")
            rec["defaultFlag"] = pos == 0
            rec["inactive"] = False
        rules.append(("*status", r_status))
    elif key == "/finance/invoices":
        def r_invoice(rid: int, r: int, rec: dict) -> None:
            rec["invoiceNumber"] = f"INV-{rid:06d}"
            total = round(50 + (r >> 10) % 500000 / 100, 2)
            rec["subtotal"] = total
            rec["total"] = round(total * 1.21, 2)
            rec["date"] = iso(store.entered_ts(coll, rid))
        rules.append(("*invoice", r_invoice))
    elif key == "/company/companies":
        def r_company(rid: int, r: int, rec: dict) -> None:
            rec["website"] = "https://www." + rec.get("identifier", "example").lower() + ".example"
            rec["deletedFlag"] = False
        rules.append(("*company", r_company))
    return rules


def _ticket_company(store: Any, tickets: Collection, t: int) -> int | None:
    rec = store.written(tickets.norm, t)
    if rec is None:
        rec = store.base_record(tickets, t)
    comp = rec.get("company")
    return comp.get("id") if isinstance(comp, dict) else None
