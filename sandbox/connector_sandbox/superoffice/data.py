"""Seeded, lazy, related SuperOffice data: one table per archive provider, rows ``1..size``.

A row is a *record*: the entity's properties by their Swagger names (``Name``, ``Department``,
``Saledate``...), references to other rows and to list items as ids (``Contact: 12``,
``Category: 3``, ``Associate: 2``), datetimes as naive UTC ``datetime``\\s, and the stamps
``_updated`` / ``_registered`` / ``_deleted_at``. A base record is a pure function of (seed,
provider, index, table sizes); writes go to the kit's overlay. The entity view (``GET
/api/v1/Contact/5``) and the list view (a provider's columns) are both computed from the same
record, so they always agree.

Relations: person ``i`` belongs to contact ``1 + (i - 1) % contacts``; sales, projects,
appointments, documents and tickets reference a contact, one of its persons, a project and a sale.

Change stamps grow with the index (three rows share a day while the table is small enough, groups
spread over five years from 2019-01-07), so a range on the change column is a binary search; the
registered stamp lies up to two years before it. Names carry hostile unicode: emoji, right-to-left
scripts, combining marks, apostrophes (``O'Brien``) and double quotes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..seeding import row_rand
from ..store import BoundedCache, LazyStore, first_index
from .catalog import Catalog, Column, Provider

START = dt.datetime(2019, 1, 7, 7, 0, 0)
SPAN = 5 * 365 * 86400
HARD_DELETE_AFTER = dt.timedelta(days=14)  # best practices: soft deletes are hard-deleted after 14 days

ENTITY_REFS = {"Contact": "SimpleContact", "Person": "Person", "Project": "FindProject", "Sale": "FindSale",
               "Appointment": "FindAppointment"}
STAMPS = {"UpdatedDate": "_updated", "CreatedDate": "_registered", "LastChanged": "_updated", "CreatedAt": "_registered"}
ASSOCIATE_PROPS = {"UpdatedBy", "CreatedBy"}

COMPANY_WORDS = ("Ærøskøbing", "Nordlys", "Smørbrød", "Fjord & Fjell", "Zürich", "Łódź", "Café \"Ølé\"", "Bäckerei",
                 "Crème Brûlée", "Müller", "Ōsaka", "Δέλτα", "Пример", "مؤسسة الأمل", "שלום", "🚀 Rocket", "Straße",
                 "O'Brien", "D'Angelo", "Ünïcødé", "E\u0301lan", "Señor", "İstanbul", "50% Øl", "Smith/Jones")
COMPANY_SUFFIXES = ("AS", "AB", "GmbH", "Ltd", "& Søn", "S.A.", "Sp. z o.o.", "株式会社", "ApS", "Oy", "B.V.", "Inc. 🎉",
                    "s.r.o.", "LLC", "ASA")
DEPARTMENTS = ("", "", "Sales", "R&D", "Økonomi", "Support/Service", "Logistikk", "Ventes \"Nord\"", "المبيعات")
FIRST_NAMES = ("Åse", "Zoë", "José", "François", "Ægir", "Øyvind", "Chloé", "Renée", "Nguyễn", "Ümit", "Seán", "Björk",
               "محمد", "דוד", "Ἀλέξανδρος", "Иван", "美咲", "Siân", "D'Arcy", "Mary-Jane", "Zoe\u0308", "Kåre")
LAST_NAMES = ("O'Connor", "Ødegård", "Müller", "Nuñez", "García", "Łukasiewicz", "van der Berg", "Smith 🙂", "Dvořák",
              "Şahin", "Kowalski", "Hämäläinen", "D'Souza", "O’Neil", "Schrödinger", "Lee", "中村", "Björnsson",
              "\"Doc\" Brown", "Ba\u0301rðarson")
TITLES = ("", "CEO", "Daglig leder", "Ingénieur", "Head of R&D", "Økonomisjef", "CTO / CIO")
HEADINGS = ("Licences", "Consulting", "Renewal", "Upgrade \"Pro\"", "Hardware 🖥️", "Support avtale", "Ny løsning",
            "O'Hara deal", "تجديد", "Formation")
LIST_NAMES = {
    "Category": ("Kunde", "Leverandør", "Partner", "Prospect", "Competitor", "VIP ⭐", "Ex-customer", "O'Reilly list"),
    "Business": ("IT", "Retail", "Shipping", "Oil & Gas", "Fishing", "Public sector", "Consulting", "Media"),
    "Country": ("Norge", "Sverige", "Danmark", "Deutschland", "España", "Ελλάδα", "日本", "United Kingdom", "France",
                "Österreich", "Türkiye", "ישראל"),
    "Currency": ("NOK", "SEK", "DKK", "EUR", "USD", "GBP", "JPY", "CHF"),
    "Position": ("Manager", "Developer", "Buyer", "Consultant", "Sjef", "Assistant"),
}
ASSOCIATES = (("SAL", "Sandbox", "Admin"), ("ANN", "Anne", "Ødegård"), ("JOB", "Jo", "O'Brien"), ("MRK", "Marek", "Dvořák"),
              ("LIN", "Lin", "中村"), ("ZOE", "Zoë", "Nuñez"), ("ALI", "Ali", "Şahin"), ("SYS", "System", "User"))

Record = dict[str, Any]


def iso(value: Any) -> Any:
    """A datetime as SuperOffice prints it: ISO 8601, UTC, no offset."""
    return value.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(value, dt.datetime) else value


def base_ts(i: int, n: int, r: int) -> dt.datetime:
    """The change stamp of base row ``i`` of ``n``: strictly increasing with ``i``, three rows a group."""
    groups = max(1, -(-n // 3))
    g = max(3, min(200 * 86400, SPAN // groups))
    if g >= 86400:
        g -= g % 86400
    o = min(g // 3, 3 * 3600)
    jitter = r % 60 if o >= 120 else 0
    return START + dt.timedelta(seconds=((i - 1) // 3) * g + ((i - 1) % 3) * o + jitter)


def pick(seq: tuple[Any, ...], r: int, shift: int = 0) -> Any:
    return seq[(r >> shift) % len(seq)]


class SuperOfficeStore(LazyStore):
    """Every provider's rows (base + overlay), the associates and the lookup lists."""

    def __init__(self, catalog: Catalog, seed: int, sizes: dict[str, int], default_size: int, clock: Any) -> None:
        super().__init__(seed)
        self.catalog = catalog
        self.clock = clock
        self.default_size = int(default_size)
        self.sizes: dict[str, int] = {}
        for name, n in sizes.items():
            self.sizes[self.resolve(name)] = int(n)
        self.cache = BoundedCache(20_000)
        self.scanned = 0  # rows a listing walked through (paging cost)
        self._lists: dict[str, list[Record]] = {}
        self.associates: list[Record] = [{"AssociateId": k, "Name": ini, "PersonId": 0, "Rank": k, "Tooltip": "", "Type": "InternalAssociate",
                            "GroupIdx": 1, "FullName": f"{first} {last}", "FormalName": f"{first} {last}",
                            "Deleted": False, "EjUserId": 0, "UserName": f"{ini.lower()}@sandbox.test",
                            "ExtraFields": {}, "CustomFields": {}, "TableRight": None, "FieldProperties": {}}
                           for k, (ini, first, last) in enumerate(ASSOCIATES, start=1)]

    # ------------------------------------------------------------------ names and sizes
    def resolve(self, name: str) -> str:
        """A provider name from a provider, an entity or an API path (``Contact``, ``/api/v1/Contact``,
        ``Archive/SimpleContact``)."""
        text = name.strip().strip("/")
        low = text.lower()
        for prefix in ("api/v1/archive/", "api/v1/", "archive/"):
            if low.startswith(prefix):
                text, low = text[len(prefix):], low[len(prefix):]
        provider = self.catalog.provider(text)
        if provider is not None:
            return provider.name
        hit = self.catalog.list_endpoint(text)
        if hit is not None:
            return hit[1]
        raise KeyError(f"unknown table {name!r}: name an archive provider ({', '.join(self.catalog.providers)}) "
                       f"or an entity ({', '.join(self.catalog.list_endpoints)})")

    def size(self, provider: str) -> int:
        return self.sizes.get(provider, self.default_size)

    def set_size(self, provider: str, n: int) -> None:
        with self.lock:
            self.sizes[provider] = int(n)
            self.cache.clear()
            self.invalidate()

    def now(self) -> dt.datetime:
        return self.clock.now().replace(tzinfo=None, microsecond=0)

    def rand(self, provider: str, i: int, what: str = "") -> int:
        return row_rand(self.salt(provider, what), i)

    def ts(self, provider: str, i: int) -> dt.datetime:
        return base_ts(i, self.size(provider), self.rand(provider, i, "ts"))

    def first_at_or_after(self, provider: str, lo: int, hi: int, when: dt.datetime) -> int:
        """Smallest base index in ``lo..hi`` whose change stamp is at or after ``when``."""
        return first_index(lo, hi, lambda i: self.ts(provider, i) >= when)

    # ------------------------------------------------------------------ rows
    def base(self, provider: str, i: int) -> Record | None:
        if not 1 <= i <= self.size(provider):
            return None
        hit = self.cache.get((provider, i))
        if hit is not None:
            return hit
        rec = self._generate(provider, i)
        self.cache.put((provider, i), rec)
        return rec

    def record(self, provider: str, i: int) -> Record | None:
        """The row as it is now, soft-deleted ones included (None: no such row, or hard-deleted)."""
        rec = self.current(provider, i, lambda j: self.base(provider, j))
        if rec is not None and not self.present(rec):
            return None
        return rec

    def live(self, provider: str, i: int) -> Record | None:
        """The row unless it is deleted (what the entity endpoints see)."""
        rec = self.record(provider, i)
        return None if rec is None or rec.get("_deleted_at") is not None else rec

    def present(self, rec: Record) -> bool:
        """A soft-deleted row stays listed until it is hard-deleted (14 days on the clock)."""
        deleted = rec.get("_deleted_at")
        return deleted is None or self.now() - deleted < HARD_DELETE_AFTER

    def write(self, provider: str, i: int, rec: Record | None) -> None:
        with self.lock:
            ov = self.overlay_for(provider)
            base = i <= self.size(provider)
            if rec is None:
                ov.remove(i, base=base)
            else:
                ov.put(i, rec, base=base)
            self.wrote()

    def allocate(self, provider: str) -> int:
        return self.overlay_for(provider).allocate(self.size(provider) + 1)

    def purge_deleted(self) -> int:
        """Hard-delete every soft-deleted row now."""
        n = 0
        with self.lock:
            for provider, ov in list(self.overlays.items()):
                for i in [i for i, rec in {**ov.changed, **ov.created}.items() if rec.get("_deleted_at") is not None]:
                    self.write(str(provider), i, None)
                    n += 1
        return n

    # ------------------------------------------------------------------ lookup lists and associates
    def list_items(self, name: str) -> list[Record]:
        items = self._lists.get(name)
        if items is None:
            items = self._lists[name] = self._make_list(name)
        return items

    def _make_list(self, name: str) -> list[Record]:
        model = self.catalog.models[self.catalog.lookup_lists[name]]
        id_prop, name_prop = list_props(model)
        vocab = LIST_NAMES.get(name)
        n = 24 + self.salt("list", name) % 13
        items = []
        for k in range(1, n + 1):
            label = vocab[(k - 1) % len(vocab)] + ("" if k <= len(vocab) else f" {k}") if vocab else \
                f"{name} {k}" + (" – Ødegård's" if k % 7 == 0 else "")
            item: Record = {}
            for prop, spec in model.items():
                kind = spec["type"]
                if prop == id_prop:
                    item[prop] = k
                elif prop == name_prop:
                    item[prop] = label
                elif prop == "Deleted":
                    item[prop] = k % 11 == 0 if kind == "boolean" else int(k % 11 == 0)
                elif prop == "Rank":
                    item[prop] = k
                elif prop == "Tooltip":
                    item[prop] = f"{label} (tooltip)"
                elif prop == "UdListDefinitionId":
                    item[prop] = 1 + self.salt("listdef", name) % 200
                else:
                    item[prop] = default_value(spec)
            items.append(item)
        return items

    def list_item(self, name: str, item_id: int) -> Record | None:
        items = self.list_items(name)
        return items[item_id - 1] if 1 <= item_id <= len(items) else None

    def list_id(self, name: str, r: int) -> int:
        """A non-deleted item id of list ``name`` (from random bits ``r``)."""
        n = len(self.list_items(name))
        k = 1 + r % n
        return k + 1 if k % 11 == 0 and k < n else k

    def associate(self, k: int) -> Record | None:
        return self.associates[k - 1] if 1 <= k <= len(self.associates) else None

    # ------------------------------------------------------------------ generation
    def _generate(self, provider: str, i: int) -> Record:
        r = self.rand(provider, i)
        updated = self.ts(provider, i)
        registered = max(START - dt.timedelta(days=730), updated - dt.timedelta(seconds=self.rand(provider, i, "reg")
                                                                                  % (730 * 86400)))
        rec: Record = {"_updated": updated, "_registered": registered, "_deleted_at": None}
        maker = getattr(self, f"_make_{provider}", None)
        if maker is not None:
            maker(rec, i, r)
        return rec

    def _contact_of_person(self, person: int) -> int:
        n = self.size("SimpleContact")
        return 1 + (person - 1) % n if n > 0 and person > 0 else 0

    def _person_of_contact(self, contact: int, r: int) -> int:
        n_c, n_p = self.size("SimpleContact"), self.size("Person")
        if contact <= 0 or contact > n_p or n_c <= 0:
            return 0
        count = (n_p - contact) // n_c + 1
        return contact + (r % count) * n_c

    def _refs(self, rec: Record, r: int, *, project: bool = True, sale: bool = False) -> None:
        n_c = self.size("SimpleContact")
        contact = 1 + (r >> 3) % n_c if n_c > 0 else 0
        rec["Contact"] = contact
        rec["Person"] = self._person_of_contact(contact, r >> 11) if (r >> 5) % 4 else 0
        n_pr, n_s = self.size("FindProject"), self.size("FindSale")
        if project:
            rec["Project"] = 1 + (r >> 17) % n_pr if n_pr > 0 and (r >> 23) % 3 == 0 else 0
        if sale:
            rec["Sale"] = 1 + (r >> 29) % n_s if n_s > 0 and (r >> 31) % 3 == 0 else 0
        rec["Associate"] = 1 + (r >> 37) % (len(self.associates) - 1)
        rec["UpdatedBy"] = 1 + (r >> 41) % len(self.associates)
        rec["CreatedBy"] = 1 + (r >> 44) % len(self.associates)

    def _make_SimpleContact(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        name = f"{pick(COMPANY_WORDS, r)} {pick(COMPANY_WORDS, r, 8)} {pick(COMPANY_SUFFIXES, r, 16)}"
        rec.update({
            "Name": name, "Department": pick(DEPARTMENTS, r, 24), "OrgNr": f"{900000000 + r % 99999999}",
            "Number1": str(10000 + i), "Number2": f"C{i:06d}",
            "Description": "" if r % 4 else f"Notat: «{name}»\nline 2 with 'quotes' and \"double\"",
            "Category": self.list_id("Category", r >> 30), "Business": self.list_id("Business", r >> 34),
            "Country": self.list_id("Country", r >> 38), "NoMailing": (r >> 42) % 5 == 0, "Xstop": (r >> 45) % 17 == 0,
            "Emails": [{"Value": f"post{i}@example{i % 97}.test", "StrippedValue": f"post{i}@example{i % 97}.test",
                        "Description": ""}],
            "Phones": [{"Value": f"+47 {20000000 + r % 9999999}", "StrippedValue": f"+47{20000000 + r % 9999999}",
                        "Description": "Sentralbord"}],
            "Urls": [{"Value": f"https://example{i % 97}.test/", "StrippedValue": f"https://example{i % 97}.test/",
                      "Description": ""}],
            "Deleted": 0, "Associate": 1 + (r >> 48) % (len(self.associates) - 1),
            "UpdatedBy": 1 + (r >> 51) % len(self.associates), "CreatedBy": 1 + (r >> 54) % len(self.associates)})

    def _make_Person(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        rec.update({
            "Contact": self._contact_of_person(i), "Firstname": pick(FIRST_NAMES, r),
            "MiddleName": "" if r % 5 else "Ø.", "Lastname": pick(LAST_NAMES, r, 8), "Mrmrs": pick(("", "Mr", "Ms"), r, 13),
            "Title": pick(TITLES, r, 16), "Position": self.list_id("Position", r >> 20), "PersonNumber": f"P{i:06d}",
            "BirthDate": None if r % 3 == 0 else dt.datetime(1950 + (r >> 24) % 50, 1 + (r >> 30) % 12, 1 + (r >> 34) % 28),
            "NoMailing": (r >> 38) % 6 == 0, "Retired": (r >> 41) % 19 == 0,
            "Emails": [{"Value": f"person{i}@example{i % 97}.test", "StrippedValue": f"person{i}@example{i % 97}.test",
                        "Description": ""}],
            "MobilePhones": [{"Value": f"+47 9{r % 9999999:07d}", "StrippedValue": f"+479{r % 9999999:07d}",
                              "Description": ""}],
            "Associate": 1 + (r >> 46) % (len(self.associates) - 1), "UpdatedBy": 1 + (r >> 50) % len(self.associates),
            "CreatedBy": 1 + (r >> 53) % len(self.associates), "Description": ""})

    def _make_FindSale(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        self._refs(rec, r)
        amount = round((r % 5_000_000) / 100, 2)
        rec.update({"Heading": f"{pick(HEADINGS, r >> 50)} #{i}", "Amount": amount,
                    "Earning": round(amount * 0.3, 2), "EarningPercent": 30.0, "Probability": (r >> 9) % 101,
                    "Status": pick(("Open", "Open", "Sold", "Lost", "Stalled"), r, 13),
                    "Saledate": rec["_registered"] + dt.timedelta(days=(r >> 21) % 180), "Number": f"S-{i:06d}",
                    "Postit": "", "Currency": self.list_id("Currency", r >> 27), "SaleType": self.list_id("SaleType", r >> 33),
                    "Completed": pick(("NotStarted", "Started", "Completed"), r, 39)})

    def _make_FindProject(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        self._refs(rec, r, project=False)
        start = rec["_registered"]
        rec.update({"Name": f"Prosjekt {pick(COMPANY_WORDS, r >> 20)} {i}", "ProjectNumber": f"PR{i:05d}",
                    "ProjectStatus": self.list_id("ProjectStatus", r >> 7), "ProjectType": self.list_id("ProjectType", r >> 12),
                    "Description": "" if r % 3 else "Scope: «phase 1» & 'phase 2'", "Completed": (r >> 16) % 4 == 0,
                    "StartDate": start, "EndDate": start + dt.timedelta(days=30 + (r >> 26) % 300)})
        for k in ("Contact", "Person"):
            rec.pop(k, None)

    def _make_FindAppointment(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        self._refs(rec, r, sale=True)
        start = rec["_registered"] + dt.timedelta(days=(r >> 19) % 60, hours=8 + (r >> 25) % 9)
        rec.update({"StartDate": start, "EndDate": start + dt.timedelta(minutes=30 * (1 + (r >> 27) % 6)),
                    "Description": f"Møte med {pick(FIRST_NAMES, r >> 30)} – agenda \"Q{1 + i % 4}\"",
                    "Title": f"Meeting {i}", "Location": pick(("", "Oslo", "Zürich HQ", "Teams 💻", "Café Ølé"), r, 35),
                    "Task": self.list_id("Task", r >> 40), "Type": "inDiary" if (r >> 47) % 5 else "inChecklist",
                    "Completed": pick(("NotStarted", "Completed"), r, 50), "Private": "Public"})

    def _make_FindDocument(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        self._refs(rec, r, sale=True)
        rec.update({"Header": f"Tilbud {pick(HEADINGS, r >> 20)}", "Name": f"doc_{i}_{pick(LAST_NAMES, r >> 24)}.docx",
                    "OurRef": pick(("", "ANN", "JOB/1"), r, 28), "YourRef": pick(("", "O'Brien", "ref «7»"), r, 31),
                    "Date": rec["_registered"] + dt.timedelta(days=(r >> 34) % 30),
                    "DocumentTemplate": self.list_id("DocumentTemplate", r >> 38), "Type": "Document",
                    "Completed": pick(("NotStarted", "Completed"), r, 43), "Description": ""})

    def _make_Ticket(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        n_p = self.size("Person")
        person = 1 + (r >> 3) % n_p if n_p > 0 and r % 5 else 0
        rec.update({"Title": f"{pick(('Feil', 'Help!', 'Fråga', 'Problème', 'بلاغ', 'Bug 🐛'), r >> 9)} #{i}",
                    "Person": person, "Author": pick(FIRST_NAMES, r >> 14), "BaseStatus": pick(("Active", "Closed",
                                                                                             "Postponed"), r, 19),
                    "Status": self.list_id("TicketStatus", r >> 22), "Priority": self.list_id("TicketPriority", r >> 27),
                    "Category": self.list_id("TicketCategory", r >> 31), "OwnedBy": 1 + (r >> 36) % len(self.associates),
                    "CreatedBy": 1 + (r >> 40) % len(self.associates), "NumMessages": 1 + (r >> 44) % 9,
                    "NumReplies": (r >> 48) % 5, "HasAttachment": (r >> 52) % 3 == 0, "Origin": "Email",
                    "Slevel": "External"})

    def _make_Product(self, rec: Record, i: int, r: int) -> None:  # noqa: N802
        cost = round((r % 100_000) / 100, 2)
        rec.update({"Name": f"{pick(('Widget', 'Lisens', 'Konsulenttime', 'Støtte', 'Gadget 🔧'), r >> 7)} {i}",
                    "Code": f"P-{i:05d}", "Description": "" if r % 4 else "Inkl. «MVA» & 'frakt'", "PriceUnit": "NOK",
                    "QuantityUnit": pick(("stk", "time", "pcs"), r, 12), "UnitCost": cost,
                    "UnitListPrice": round(cost * 1.6, 2), "UnitMinimumPrice": round(cost * 1.1, 2), "VAT": 25.0,
                    "InAssortment": (r >> 16) % 7 != 0, "ItemNumber": f"IT{i:06d}", "Supplier": pick(COMPANY_WORDS, r, 20),
                    "SupplierCode": f"SUP-{r % 997}", "ERPProductKey": f"ERP{i:07d}", "VATInfo": "25% MVA",
                    "IsSubscription": (r >> 24) % 5 == 0, "Url": f"https://shop.example.test/p/{i}"})

    # ------------------------------------------------------------------ display names
    def display(self, provider: str, i: int) -> str:
        """How a row of ``provider`` is named where another row refers to it."""
        rec = self.record(provider, i) if i else None
        if rec is None:
            return ""
        if provider == "Person":
            return full_name(rec)
        for prop in ("Name", "Heading", "Description", "Title"):
            if prop in rec:
                return str(rec[prop])
        return str(i)


def full_name(rec: Record) -> str:
    return " ".join(p for p in (rec.get("Firstname"), rec.get("MiddleName"), rec.get("Lastname")) if p)


def list_props(model: dict[str, Any]) -> tuple[str | None, str | None]:
    """The id and the name property of a list item model (``Id``/``CountryId``..., ``Name``/``Value``)."""
    id_prop = "Id" if "Id" in model else next((p for p, s in model.items() if p.endswith("Id")
                                              and s["type"] == "integer"), None)
    name_prop = "Name" if "Name" in model else "Value" if "Value" in model else None
    return id_prop, name_prop


def default_value(spec: dict[str, Any]) -> Any:
    kind = spec["type"]
    return {"string": "", "integer": 0, "number": 0.0, "boolean": False, "array": [], "map": {}}.get(kind) \
        if "enum" not in spec else spec["enum"][0]


# ---------------------------------------------------------------------------------------- list columns
Cell = Callable[["SuperOfficeStore", int, Record], Any]


def _p(prop: str) -> Cell:
    return lambda s, i, rec: rec.get(prop)


def _first(prop: str) -> Cell:
    return lambda s, i, rec: (rec.get(prop) or [{}])[0].get("Value")


def _lst(prop: str, name: str) -> Cell:
    def cell(s: SuperOfficeStore, i: int, rec: Record) -> Any:
        k = rec.get(prop) or 0
        item = s.list_item(name, k) if k else None
        _, name_prop = list_props(s.catalog.models[s.catalog.lookup_lists[name]])
        return (k, item.get(name_prop or "Name", "") if item else "")
    return cell


def _assoc(prop: str, full: bool = False) -> Cell:
    def cell(s: SuperOfficeStore, i: int, rec: Record) -> Any:
        k = rec.get(prop) or 0
        a = s.associate(k)
        return (k, (a["FullName"] if full else a["Name"]) if a else "")
    return cell


def _ref(prop: str, provider: str, as_list: bool) -> Cell:
    def cell(s: SuperOfficeStore, i: int, rec: Record) -> Any:
        k = rec.get(prop) or 0
        return (k, s.display(provider, k)) if as_list else k
    return cell


def _ticket_contact(s: SuperOfficeStore, i: int, rec: Record) -> Any:
    person = rec.get("Person") or 0
    prec = s.record("Person", person) if person else None
    return (prec or {}).get("Contact") or 0


COMMON: dict[str, Cell] = {"associateId": _assoc("Associate"), "updatedBy": _assoc("UpdatedBy"),
                           "updatedByFullName": _assoc("UpdatedBy", True), "registeredBy": _assoc("CreatedBy"),
                           "registeredByFullName": _assoc("CreatedBy", True),
                           "contactId": _ref("Contact", "SimpleContact", False), "personId": _ref("Person", "Person", False),
                           "projectId": _ref("Project", "FindProject", False), "saleId": _ref("Sale", "FindSale", False)}

COLUMN_CELLS: dict[str, dict[str, Cell]] = {
    "SimpleContact": {
        "name": _p("Name"), "department": _p("Department"), "orgnr": _p("OrgNr"), "number": _p("Number1"),
        "code": _p("Number2"), "nameDepartment": lambda s, i, r: " ".join(x for x in (r.get("Name"), r.get("Department"))
                                                                          if x),
        "hasInfoText": lambda s, i, r: bool(r.get("Description")), "category": _lst("Category", "Category"),
        "business": _lst("Business", "Business"), "country": _lst("Country", "Country"),
        "countryId": lambda s, i, r: r.get("Country") or 0, "stop": lambda s, i, r: bool(r.get("Xstop")),
        "contactNoMail": lambda s, i, r: bool(r.get("NoMailing")), "contactDeleted": lambda s, i, r: bool(r.get("Deleted")),
        "email/emailAddress": _first("Emails"), "phone/formattedNumber": _first("Phones"), "url/URLAddress": _first("Urls"),
        "contactAssociate/fullName": lambda s, i, r: _assoc("Associate", True)(s, i, r)[1],
    },
    "Person": {
        "firstName": _p("Firstname"), "lastName": _p("Lastname"), "middleName": _p("MiddleName"),
        "fullName": lambda s, i, r: full_name(r), "mrMrs": _p("Mrmrs"), "title": _p("Title"),
        "position": _lst("Position", "Position"), "personNumber": _p("PersonNumber"),
        "personNoMail": lambda s, i, r: bool(r.get("NoMailing")), "retired": lambda s, i, r: bool(r.get("Retired")),
        "personUpdatedBy": _assoc("UpdatedBy"), "personUpdatedByFullName": _assoc("UpdatedBy", True),
        "personRegisteredBy": _assoc("CreatedBy"), "personRegisteredByFullName": _assoc("CreatedBy", True),
        "personAssociateId": _assoc("Associate"), "personAssociateFullName": _assoc("Associate", True),
        "email/emailAddress": _first("Emails"), "hasCompany": lambda s, i, r: bool(r.get("Contact")),
        "birthYear": lambda s, i, r: r["BirthDate"].year if r.get("BirthDate") else 0,
        "birthMonth": lambda s, i, r: r["BirthDate"].month if r.get("BirthDate") else 0,
        "birthDay": lambda s, i, r: r["BirthDate"].day if r.get("BirthDate") else 0,
        "hasInfoText": lambda s, i, r: bool(r.get("Description")),
        "personMobilePhone/formattedNumber": _first("MobilePhones"),
    },
    "FindSale": {
        "heading": _p("Heading"), "text": _p("Heading"), "amount": _p("Amount"), "earning": _p("Earning"),
        "earningPercent": _p("EarningPercent"), "probPercent": _p("Probability"), "date": _p("Saledate"),
        "saleNumber": _p("Number"), "description": _p("Postit"), "currency": _lst("Currency", "Currency"),
        "currencyId": lambda s, i, r: r.get("Currency") or 0, "saleType": _lst("SaleType", "SaleType"),
        "saleStatus": lambda s, i, r: ({"Open": 1, "Sold": 2, "Lost": 3, "Stalled": 4}.get(str(r.get("Status")), 0),
                                       r.get("Status", "")),
        "completed": lambda s, i, r: r.get("Completed") == "Completed",
        "amountWeighted": lambda s, i, r: round((r.get("Amount") or 0) * (r.get("Probability") or 0) / 100, 2),
    },
    "FindProject": {
        "name": _p("Name"), "number": _p("ProjectNumber"), "type": _lst("ProjectType", "ProjectType"),
        "status": _lst("ProjectStatus", "ProjectStatus"), "text": _p("Description"), "description": _p("Description"),
        "completed": lambda s, i, r: bool(r.get("Completed")), "startDate": _p("StartDate"), "endDate": _p("EndDate"),
        "hasInfoText": lambda s, i, r: bool(r.get("Description")),
    },
    "FindAppointment": {
        "date": _p("StartDate"), "endDate": _p("EndDate"), "text": _p("Description"), "location": _p("Location"),
        "type": _lst("Task", "Task"), "completed": lambda s, i, r: r.get("Completed") == "Completed",
    },
    "FindDocument": {
        "date": _p("Date"), "name": _p("Name"), "header": _p("Header"), "text": _p("Header"), "ourref": _p("OurRef"),
        "yourref": _p("YourRef"), "type": _lst("DocumentTemplate", "DocumentTemplate"),
        "completed": lambda s, i, r: r.get("Completed") == "Completed",
    },
    "Ticket": {
        "title": _p("Title"), "author": _p("Author"), "contactId": _ticket_contact,
        "status": lambda s, i, r: ({"Active": 1, "Closed": 2, "Postponed": 3}.get(str(r.get("BaseStatus")), 0),
                                   r.get("BaseStatus", "")),
        "ticketStatusName": _lst("Status", "TicketStatus"), "ticketStatusId": lambda s, i, r: r.get("Status") or 0,
        "priorityName": _lst("Priority", "TicketPriority"), "priorityId": lambda s, i, r: r.get("Priority") or 0,
        "categoryFullName": _lst("Category", "TicketCategory"), "categoryId": lambda s, i, r: r.get("Category") or 0,
        "ownedBy": _assoc("OwnedBy", True), "createdBy": _assoc("CreatedBy", True),
        "numberOfMessages": _p("NumMessages"), "numberOfReplies": _p("NumReplies"),
        "has_attachment": lambda s, i, r: bool(r.get("HasAttachment")),
    },
    "Product": {
        "name": _p("Name"), "description": _p("Description"), "code": _p("Code"), "priceUnit": _p("PriceUnit"),
        "quantityUnit": _p("QuantityUnit"), "cost": _p("UnitCost"), "listPrice": _p("UnitListPrice"),
        "minimumPrice": _p("UnitMinimumPrice"), "vat": _p("VAT"), "vatInfo": _p("VATInfo"),
        "inAssortment": lambda s, i, r: bool(r.get("InAssortment")), "itemNumber": _p("ItemNumber"),
        "supplier": _p("Supplier"), "supplierCode": _p("SupplierCode"), "erpProductKey": _p("ERPProductKey"),
        "isSubscription": lambda s, i, r: bool(r.get("IsSubscription")), "url": _p("Url"),
        "subscriptionUnit": _p("SubscriptionUnit"), "defaultSubscriptionQuantity": _p("DefaultSubscriptionQuantity"),
        **{f"extraField{n}": _p(f"ExtraField{n}") for n in range(1, 6)},
    },
}
# Column prefixes that read another row: "person/firstName" is the Person provider's firstName of the row's person.
JOINS = {"person": ("Person", "Person"), "contact": ("Contact", "SimpleContact"), "project": ("Project", "FindProject"),
         "sale": ("Sale", "FindSale")}


def cell(store: SuperOfficeStore, provider: Provider, col: Column, i: int, rec: Record) -> Any:
    """The value of column ``col`` of row ``i``: a plain value, or ``(id, display)`` for list columns."""
    name = col.name
    if name == provider.key:
        return i
    if name == provider.updated:
        return rec.get("_updated")
    if name == provider.registered:
        return rec.get("_registered")
    if name == provider.deleted_date:
        return rec.get("_deleted_at")
    if name == provider.deleted_flag:
        return rec.get("_deleted_at") is not None
    cells = COLUMN_CELLS.get(provider.name)
    if cells is not None:
        fn = cells.get(name) or COMMON.get(name)
        if fn is not None:
            return fn(store, i, rec)
        head, _, tail = name.partition("/")
        join = JOINS.get(head)
        if tail and join is not None and join[0] in rec and join[1] != provider.name:
            target = store.catalog.providers.get(join[1])
            k = rec.get(join[0]) or 0
            trec = store.record(join[1], k) if k and target else None
            tcol = target.column(tail) if target else None
            if target is not None and tcol is not None:
                return cell(store, target, tcol, k, trec) if trec is not None else None
    overrides = rec.get("_cols")
    if overrides and name in overrides:
        return overrides[name]
    return generic(store, provider, col, i)


def generic(store: SuperOfficeStore, provider: Provider, col: Column, i: int) -> Any:
    """A deterministic value for a column the emulator does not model, from its type."""
    r = store.rand(provider.name, i, col.name)
    kind = col.kind
    if kind == "int":
        return r % 1000
    if kind == "decimal":
        return round((r % 1_000_000) / 100, 2)
    if kind == "bool":
        return r % 3 == 0
    if kind in ("date", "datetime"):
        return START + dt.timedelta(seconds=r % SPAN)
    if kind == "list":
        k = 1 + r % 24
        return (k, f"{col.name.rsplit('/', 1)[-1]} {k}")
    if kind == "intarray":
        return [1 + r % 7] if r % 2 else []
    short = col.name.rsplit("/", 1)[-1]
    return "" if r % 5 == 0 else f"{short} {i}" + (" Ødegård's «x»" if r % 7 == 0 else "")
