"""Value generators: one function per (table, property) computing a base row's value lazily.

Core tables (Accounts, Contacts, Items, GLAccounts, Journals, TransactionLines, SalesInvoices and
their lines, SalesOrders and their lines, Projects, Divisions) get hand-written, related values:
contacts belong to accounts, invoice lines reference items and their revenue G/L account, invoice
totals are the sum of their lines, transaction lines come in balanced pairs. Every other property is
generated from its Edm type and name. All values are pure functions of (seed, division, table, index).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import pools
from .catalog import Dataset
from .data import DAY_MS, REF_TARGETS, DataStore, RecordView, day_floor, mix, random_guid
from .odata import naive_from_ms

Gen = Callable[[RecordView], Any]


def _pick(seq: list, r: int) -> Any:
    return seq[r % len(seq)]


def _company(r: int) -> str:
    return f"{_pick(pools.COMPANY_A, r)} {_pick(pools.COMPANY_B, r >> 8)} {_pick(pools.COMPANY_SUFFIX, r >> 16)}"


def _slug(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())[:20] or "bedrijf"


def _ref_index(rv: RecordView, target_id: str, salt: str) -> int | None:
    store = rv.store
    target = store.catalog.datasets.get(target_id)
    if target is None:
        return None
    n = store.size(rv.div, target)
    if n <= 0:
        return None
    return 1 + rv.rf(salt) % n


def _ref_key(rv: RecordView, target_id: str, index: int | None) -> Any:
    if index is None:
        return None
    target = rv.store.catalog.datasets[target_id]
    return rv.store.key_of(rv.div, target, index)


def _ref_view(rv: RecordView, target_id: str, key: Any) -> RecordView | None:
    store = rv.store
    target = store.catalog.datasets.get(target_id)
    if target is None or key is None:
        return None
    i = store.index_of_key(rv.div, target, key)
    if i is None or not store.exists(rv.div, target, i):
        return None
    return store.view(rv.div, target, i)


# Label of a referenced row, by table: (code property, label property).
REF_LABELS = {
    "crm/accounts": ("Code", "Name"), "crm/contacts": ("Code", "FullName"), "logistics/items": ("Code", "Description"),
    "financial/glaccounts": ("Code", "Description"), "project/projects": ("Code", "Description"),
}


# ----------------------------------------------------------------------------- generic values
def _generic(store: DataStore, ds: Dataset, name: str, code: str) -> Gen:
    label = ds.label[:-1] if ds.label.endswith("s") else ds.label
    if name == ds.key_field:
        return lambda rv: rv.key()
    if name == "Division":
        return lambda rv: rv.div
    if name == "Created":
        return lambda rv: rv.created()
    if name == "Modified":
        return lambda rv: rv.store.modified_ms(rv.div, rv.ds, rv.i)
    if name == "Timestamp" and code == "l":
        return lambda rv: rv.store.base_ts(rv.ds, rv.i)
    if name in ("Creator", "Modifier") and code == "g":
        return lambda rv: rv.store.user_id
    if name in ("CreatorFullName", "ModifierFullName"):
        return lambda rv: rv.store.user_name
    link = ds.parent
    if link is not None and name == link.link:
        return lambda rv: (lambda p: None if p is None else rv.store.key_of(rv.div, link.header, p))(
            rv.store.parent_index(rv.div, rv.ds, rv.i))
    if link is not None and name == "LineNumber":
        return lambda rv: rv.store.line_position(rv.div, rv.ds, rv.i)
    if code == "g" and name in REF_TARGETS and REF_TARGETS[name] in store.catalog.datasets:
        target_id = REF_TARGETS[name]
        return lambda rv: _ref_key(rv, target_id, _ref_index(rv, target_id, name))
    for suffix in ("FullName", "Description", "Name", "Code"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and base in REF_TARGETS and base in ds.types and ds.types[base] == "g":
            target_id = REF_TARGETS[base]
            prop = REF_LABELS.get(target_id, ("Code", "Description"))[0 if suffix == "Code" else 1]
            return lambda rv, b=base, t=target_id, p=prop: (lambda v: None if v is None else v.get(p))(
                _ref_view(rv, t, rv.get(b)))
    if code == "g":
        if name.endswith(("ID", "Id")) and name not in ("ID",):
            return lambda rv: None
        return lambda rv: random_guid(rv.rf(name)) if rv.rf(name) % 10 < 3 else None
    if code == "d":
        def gen_date(rv: RecordView) -> Any:
            r = rv.rf(name)
            if r % 10 < 4:
                return None
            return day_floor(rv.created()) + ((r >> 8) % 60 - 20) * DAY_MS
        return gen_date
    if code == "f":
        if "Percentage" in name:
            return lambda rv: _pick([0.0, 0.09, 0.21, 0.21], rv.rf(name))
        if "Rate" in name:
            return lambda rv: 1.0
        return lambda rv: round((rv.rf(name) % 200000) / 100.0, 2) if rv.rf(name) % 5 else 0.0
    if code == "i":
        if name.endswith("Year"):
            return lambda rv: naive_from_ms(rv.created()).year
        if name.endswith("Period"):
            return lambda rv: naive_from_ms(rv.created()).month
        if name.endswith("Number"):
            return lambda rv: 1000 + rv.i
        return lambda rv: rv.rf(name) % 4
    if code == "l":
        return lambda rv: rv.rf(name) % 1_000_000
    if code == "o":
        return lambda rv: rv.rf(name) % 4 == 0
    if code == "s":
        if name == "Email" or name.endswith("Email"):
            return lambda rv: f"info{rv.i}@example.nl"
        if "Phone" in name or name in ("Mobile", "Fax"):
            return lambda rv: f"+31 20 {rv.rf(name) % 9000000 + 1000000}" if rv.rf(name) % 3 else None
        if name == "City":
            return lambda rv: _pick(pools.CITIES, rv.r)[0]
        if name == "Postcode":
            return lambda rv: f"{_pick(pools.CITIES, rv.r)[1]} {chr(65 + rv.rf(name) % 26)}{chr(65 + (rv.rf(name) >> 5) % 26)}"
        if name == "Country":
            return lambda rv: _pick(pools.COUNTRIES, rv.rf(name))
        if name.endswith("Currency") or name == "Currency":
            return lambda rv: "EUR"
        if name in ("Language", "LanguageCode"):
            return lambda rv: "NL"
        if name in ("Description", "Name"):
            return lambda rv: f"{label} {rv.i}"
        if name == "Code":
            return lambda rv: f"{rv.i:05d}"
        if name.endswith(("Code",)):
            return lambda rv: _pick(["A", "B", "C", "01", "02"], rv.rf(name)) if rv.rf(name) % 2 else None
        if name.startswith("AddressLine") or name in ("Street", "AddressStreet"):
            return lambda rv: f"{_pick(pools.STREETS, rv.rf(name))} {1 + rv.rf(name) % 180}" if name.endswith(("1", "Street")) else None
        return lambda rv: f"{_pick(pools.WORDS, rv.rf(name))} {rv.i}" if rv.rf(name) % 10 < 4 else None
    return lambda rv: None  # Edm.Binary, navigation and complex values


# ----------------------------------------------------------------------------- core tables
def _accounts() -> dict[str, Gen]:
    def status(rv: RecordView) -> str:
        return _pick(["C", "C", "C", "C", "P", "S", "A"], rv.rf("Status"))
    return {
        "Name": lambda rv: _company(rv.r),
        # Account Code: 18-character string, a number padded with leading spaces (§2.4).
        "Code": lambda rv: f"{rv.i:>18}",
        "SearchCode": lambda rv: _company(rv.r).split()[0].upper()[:10],
        "AddressLine1": lambda rv: f"{_pick(pools.STREETS, rv.r >> 3)} {1 + (rv.r >> 12) % 180}",
        "AddressLine2": lambda rv: None, "AddressLine3": lambda rv: None,
        "City": lambda rv: _pick(pools.CITIES, rv.r >> 20)[0],
        "Postcode": lambda rv: f"{_pick(pools.CITIES, rv.r >> 20)[1]} {chr(65 + (rv.r >> 30) % 26)}{chr(65 + (rv.r >> 35) % 26)}",
        "Country": lambda rv: _pick(pools.COUNTRIES, rv.r >> 40),
        "CountryName": lambda rv: {"NL": "Nederland", "BE": "België", "DE": "Duitsland", "GB": "Verenigd Koninkrijk"}[
            _pick(pools.COUNTRIES, rv.r >> 40)],
        "Email": lambda rv: f"info@{_slug(_company(rv.r))}.nl",
        "Website": lambda rv: f"www.{_slug(_company(rv.r))}.nl",
        "Phone": lambda rv: f"+31 {10 + rv.r % 80} {1000000 + (rv.r >> 9) % 8999999}",
        "VATNumber": lambda rv: f"NL{100000000 + (rv.r >> 7) % 899999999}B01",
        "ChamberOfCommerce": lambda rv: f"{10000000 + (rv.r >> 13) % 89999999}",
        "Status": status,
        "IsSales": lambda rv: status(rv) in ("C", "P"),
        "IsSupplier": lambda rv: rv.rf("IsSupplier") % 5 == 0,
        "Blocked": lambda rv: rv.rf("Blocked") % 50 == 0,
        "Language": lambda rv: "NL",
        "SalesCurrency": lambda rv: "EUR", "PurchaseCurrency": lambda rv: "EUR",
        "Type": lambda rv: "A",
        "MainContact": lambda rv: _main_contact(rv),
        "PaymentConditionSales": lambda rv: _pick(pools.PAYMENT_CONDITIONS, rv.rf("pc"))[0],
        "PaymentConditionSalesDescription": lambda rv: _pick(pools.PAYMENT_CONDITIONS, rv.rf("pc"))[1],
    }


def _main_contact(rv: RecordView) -> Any:
    contacts = rv.store.catalog.datasets.get("crm/contacts")
    if contacts is None or rv.i > rv.store.size(rv.div, contacts):
        return None
    return rv.store.key_of(rv.div, contacts, rv.i)


def _contact_account(rv: RecordView) -> int | None:
    accounts = rv.store.catalog.datasets["crm/accounts"]
    n = rv.store.size(rv.div, accounts)
    return None if n <= 0 else (rv.i - 1) % n + 1


def _contacts() -> dict[str, Gen]:
    first = lambda rv: _pick(pools.FIRST, rv.r)  # noqa: E731
    last = lambda rv: _pick(pools.LAST, rv.r >> 8)  # noqa: E731

    def account_view(rv: RecordView) -> RecordView | None:
        a = _contact_account(rv)
        return None if a is None else rv.store.view(rv.div, rv.store.catalog.datasets["crm/accounts"], a)

    def email(rv: RecordView) -> str:
        acc = account_view(rv)
        domain = _slug(acc.get("Name")) if acc is not None and acc.get("Name") else "example"
        return f"{first(rv).lower()}.{_slug(last(rv))}@{domain}.nl"

    return {
        "Account": lambda rv: _ref_key(rv, "crm/accounts", _contact_account(rv)),
        "FirstName": first, "LastName": last,
        "FullName": lambda rv: f"{first(rv)} {last(rv)}",
        "Initials": lambda rv: first(rv)[0] + ".",
        "MiddleName": lambda rv: None,
        "Email": email, "BusinessEmail": email,
        "Phone": lambda rv: f"+31 6 {10000000 + rv.r % 89999999}",
        "Mobile": lambda rv: f"+31 6 {10000000 + (rv.r >> 5) % 89999999}",
        "JobTitleDescription": lambda rv: _pick(pools.JOB_TITLES, rv.r >> 16),
        "Gender": lambda rv: _pick(["M", "V", "O"], rv.r >> 24),
        "Language": lambda rv: "NL",
        "IsMainContact": lambda rv: (lambda a: a is not None and rv.i <= rv.store.size(
            rv.div, rv.store.catalog.datasets["crm/accounts"]))(_contact_account(rv)),
        "Code": lambda rv: str(rv.i),
        "AccountName": lambda rv: (lambda a: None if a is None else a.get("Name"))(account_view(rv)),
        "AccountIsCustomer": lambda rv: (lambda a: None if a is None else a.get("Status") == "C")(account_view(rv)),
        "AccountIsSupplier": lambda rv: (lambda a: None if a is None else a.get("IsSupplier"))(account_view(rv)),
    }


def _gl(rv: RecordView) -> tuple | None:
    return pools.GL_CHART[rv.i - 1] if rv.i <= len(pools.GL_CHART) else None


def _glaccounts() -> dict[str, Gen]:
    return {
        "Code": lambda rv: _gl(rv)[0] if _gl(rv) else f"{4700 + rv.i}",
        "Description": lambda rv: _gl(rv)[1] if _gl(rv) else f"Overige kosten {rv.i}",
        "SearchCode": lambda rv: _gl(rv)[0] if _gl(rv) else f"{4700 + rv.i}",
        "BalanceType": lambda rv: _gl(rv)[2] if _gl(rv) else "W",
        "BalanceSide": lambda rv: _gl(rv)[3] if _gl(rv) else "D",
        "Type": lambda rv: _gl(rv)[4] if _gl(rv) else 121,
        "TypeDescription": lambda rv: {10: "Kas", 12: "Bank", 20: "Debiteuren", 22: "Crediteuren", 24: "BTW",
                                        30: "Vaste activa", 32: "Voorraad", 50: "Eigen vermogen", 110: "Omzet",
                                        111: "Kostprijs omzet", 121: "Kosten", 122: "Financiële baten en lasten"}.get(
            _gl(rv)[4] if _gl(rv) else 121, "Kosten"),
        "IsBlocked": lambda rv: False,
        "VATCode": lambda rv: None,
    }


def _gl_key(rv: RecordView, chart_index: int) -> Any:
    gl = rv.store.catalog.datasets["financial/glaccounts"]
    n = rv.store.size(rv.div, gl)
    if n <= 0:
        return None
    return rv.store.key_of(rv.div, gl, min(n, chart_index + 1))


def _journal(code: str) -> tuple:
    return next(j for j in pools.JOURNALS if j[0] == code)


def _journals() -> dict[str, Gen]:
    def j(rv: RecordView) -> tuple:
        return pools.JOURNALS[rv.i - 1] if rv.i <= len(pools.JOURNALS) else (str(100 + rv.i), f"Dagboek {rv.i}", 90)
    return {
        "Code": lambda rv: j(rv)[0], "Description": lambda rv: j(rv)[1], "Type": lambda rv: j(rv)[2],
        "GLAccount": lambda rv: _gl_key(rv, pools.BANK_GL) if j(rv)[2] == 12 else None,
        "Currency": lambda rv: "EUR", "IsBlocked": lambda rv: False,
    }


def _items() -> dict[str, Gen]:
    def price(rv: RecordView) -> float:
        return round(5 + (rv.r % 49500) / 100.0, 2)
    return {
        "Code": lambda rv: f"ART{rv.i:05d}",
        "Description": lambda rv: f"{_pick(pools.ITEM_NOUNS, rv.r)} {_pick(pools.WORDS, rv.r >> 9)}",
        "SearchCode": lambda rv: f"ART{rv.i:05d}",
        "IsSalesItem": lambda rv: True,
        "IsPurchaseItem": lambda rv: rv.r % 3 != 0,
        "IsStockItem": lambda rv: "uur" not in _pick(pools.ITEM_NOUNS, rv.r),
        "StandardSalesPrice": price,
        "CostPriceStandard": lambda rv: round(price(rv) * 0.6, 2),
        "AverageCost": lambda rv: round(price(rv) * 0.58, 2),
        "Unit": lambda rv: "uur" if "uur" in _pick(pools.ITEM_NOUNS, rv.r) else "stuk",
        "UnitDescription": lambda rv: "Uur" if "uur" in _pick(pools.ITEM_NOUNS, rv.r) else "Stuk",
        "GLRevenue": lambda rv: _gl_key(rv, _pick(pools.REVENUE_GL, rv.r >> 4)),
        "GLCosts": lambda rv: _gl_key(rv, _pick(pools.COST_GL, rv.r >> 6)),
        "GLStock": lambda rv: None,
        "SalesVatCode": lambda rv: "2",
        "SalesVatCodeDescription": lambda rv: "BTW 21%",
        "Barcode": lambda rv: f"871{(rv.r >> 3) % 10**10:010d}",
        "Stock": lambda rv: float((rv.r >> 17) % 500),
        "CostPriceCurrency": lambda rv: "EUR",
        "IsWebshopItem": lambda rv: (rv.r >> 2) % 2,
        "StartDate": lambda rv: day_floor(rv.created()),
        "EndDate": lambda rv: None,
    }


def _transaction_lines() -> dict[str, Gen]:
    # Entries of two balanced lines: line 0 on the receivable/payable/bank account (+amount),
    # line 1 on a revenue/cost account (-amount).
    def entry(rv: RecordView) -> int:
        return (rv.i - 1) // 2 + 1

    def line(rv: RecordView) -> int:
        return (rv.i - 1) % 2

    def er(rv: RecordView) -> int:  # entry-level randomness (same for both lines)
        return mix(rv.store.table_salt(rv.div, rv.ds) ^ (entry(rv) * 0x632BE59BD9B4E019))

    def journal(rv: RecordView) -> tuple:
        return _pick([pools.JOURNALS[0]] * 5 + [pools.JOURNALS[1]] * 3 + [pools.JOURNALS[2], pools.JOURNALS[4]], er(rv))

    def amount(rv: RecordView) -> float:
        a = round(10 + (er(rv) >> 7) % 500000 / 100.0, 2)
        sign = 1 if line(rv) == 0 else -1
        if journal(rv)[2] == 22:
            sign = -sign
        return sign * a

    def gl_index(rv: RecordView) -> int:
        t = journal(rv)[2]
        if line(rv) == 0:
            return {20: pools.AR_GL, 22: pools.AP_GL, 12: pools.BANK_GL}.get(t, pools.BANK_GL)
        return _pick(pools.REVENUE_GL if t in (20, 12) else pools.COST_GL, er(rv) >> 3)

    def account(rv: RecordView) -> Any:
        if journal(rv)[2] == 90:
            return None
        accounts = rv.store.catalog.datasets["crm/accounts"]
        n = rv.store.size(rv.div, accounts)
        return None if n <= 0 else rv.store.key_of(rv.div, accounts, 1 + (er(rv) >> 20) % n)

    def date(rv: RecordView) -> int:
        return day_floor(rv.store.created_ms(rv.div, rv.ds, 2 * entry(rv) - 1))

    def entry_number(rv: RecordView) -> int:
        return naive_from_ms(date(rv)).year % 100 * 1_000_000 + int(journal(rv)[0]) * 10000 + entry(rv) % 10000

    return {
        "EntryNumber": entry_number,
        "EntryID": lambda rv: random_guid(er(rv)),
        "LineNumber": line,
        "JournalCode": lambda rv: journal(rv)[0],
        "JournalDescription": lambda rv: journal(rv)[1],
        "Type": lambda rv: {20: 20, 22: 30, 12: 40, 90: 90}[journal(rv)[2]],
        "Status": lambda rv: 50 if er(rv) % 10 else 20,
        "Date": date,
        "DueDate": lambda rv: date(rv) + 30 * DAY_MS if journal(rv)[2] in (20, 22) else None,
        "FinancialYear": lambda rv: naive_from_ms(date(rv)).year,
        "FinancialPeriod": lambda rv: naive_from_ms(date(rv)).month,
        "AmountDC": amount, "AmountFC": amount,
        "AmountVATFC": lambda rv: 0.0, "AmountVATBaseFC": lambda rv: 0.0,
        "Currency": lambda rv: "EUR", "ExchangeRate": lambda rv: 1.0,
        "GLAccount": lambda rv: _gl_key(rv, gl_index(rv)),
        "Account": account,
        "Description": lambda rv: {20: "Verkoopfactuur", 22: "Inkoopfactuur", 12: "Bankafschrift", 90: "Memoriaal"}[
            journal(rv)[2]] + f" {entry_number(rv)}",
        "InvoiceNumber": lambda rv: entry_number(rv) if journal(rv)[2] in (20, 22) else None,
        "Quantity": lambda rv: 0.0 if line(rv) == 0 else 1.0,
        "VATCode": lambda rv: None, "Item": lambda rv: None, "Project": lambda rv: None,
        "Asset": lambda rv: None, "Document": lambda rv: None, "OffsetID": lambda rv: None,
    }


def _lines_amount(rv: RecordView, lines_id: str, field: str) -> float:
    store = rv.store
    lines = store.catalog.datasets[lines_id]
    total = 0.0
    for li in store.child_indexes(rv.div, lines, rv.i):
        v = store.view(rv.div, lines, li).get(field)
        total += v or 0.0
    return round(total, 2)


def _document_header(lines_id: str, number_base: int, kind: str) -> dict[str, Gen]:
    def account_index(rv: RecordView) -> int | None:
        return _ref_index(rv, "crm/accounts", "OrderedBy")

    def acc_key(rv: RecordView) -> Any:
        return _ref_key(rv, "crm/accounts", account_index(rv))

    def acc_name(rv: RecordView) -> Any:
        a = account_index(rv)
        if a is None:
            return None
        return rv.store.view(rv.div, rv.store.catalog.datasets["crm/accounts"], a).get("Name")

    def excl(rv: RecordView) -> float:
        return _lines_amount(rv, lines_id, "AmountFC")

    def vat(rv: RecordView) -> float:
        return _lines_amount(rv, lines_id, "VATAmountFC")

    def contact_key(rv: RecordView) -> Any:  # the ordering account's main contact
        a = account_index(rv)
        contacts = rv.store.catalog.datasets.get("crm/contacts")
        if a is None or contacts is None or a > rv.store.size(rv.div, contacts):
            return None
        return rv.store.key_of(rv.div, contacts, a)

    number = lambda rv: number_base + rv.i  # noqa: E731
    doc_date = lambda rv: day_floor(rv.created())  # noqa: E731
    out: dict[str, Gen] = {
        "OrderedBy": acc_key, "InvoiceTo": acc_key, "DeliverTo": acc_key,
        "OrderedByName": acc_name, "InvoiceToName": acc_name, "DeliverToName": acc_name,
        "OrderedByContactPerson": contact_key, "InvoiceToContactPerson": contact_key,
        "DeliverToContactPerson": contact_key,
        "Currency": lambda rv: "EUR",
        "AmountFCExclVat": excl, "AmountFC": lambda rv: round(excl(rv) + vat(rv), 2),
        "AmountDC": lambda rv: round(excl(rv) + vat(rv), 2),
        "VATAmountFC": vat, "VATAmountDC": vat,
        "AmountDiscount": lambda rv: 0.0, "AmountDiscountExclVat": lambda rv: 0.0, "Discount": lambda rv: 0.0,
        "PaymentCondition": lambda rv: _pick(pools.PAYMENT_CONDITIONS, rv.rf("pc"))[0],
        "PaymentConditionDescription": lambda rv: _pick(pools.PAYMENT_CONDITIONS, rv.rf("pc"))[1],
        "YourRef": lambda rv: f"PO-{(rv.r >> 5) % 100000:05d}",
        "OrderDate": doc_date,
    }
    if kind == "invoice":
        out.update({
            "InvoiceNumber": number, "InvoiceDate": doc_date,
            "DueDate": lambda rv: doc_date(rv) + 30 * DAY_MS,
            "Journal": lambda rv: "70", "JournalDescription": lambda rv: "Verkoopboek",
            "Status": lambda rv: _pick([50, 50, 50, 20, 10], rv.rf("Status")),
            "StatusDescription": lambda rv: {50: "Verwerkt", 20: "Open", 10: "Concept"}[
                _pick([50, 50, 50, 20, 10], rv.rf("Status"))],
            "Type": lambda rv: 8020, "TypeDescription": lambda rv: "Verkoopfactuur",
            "Description": lambda rv: f"Factuur {number(rv)}",
            "OrderNumber": lambda rv: None,
        })
    else:
        out.update({
            "OrderNumber": number,
            "DeliveryDate": lambda rv: doc_date(rv) + 14 * DAY_MS,
            "Status": lambda rv: _pick([12, 12, 20, 21, 45], rv.rf("Status")),
            "StatusDescription": lambda rv: {12: "Open", 20: "Gedeeltelijk", 21: "Afgehandeld", 45: "Geannuleerd"}[
                _pick([12, 12, 20, 21, 45], rv.rf("Status"))],
            "DeliveryStatus": lambda rv: 12, "InvoiceStatus": lambda rv: 12,
            "ApprovalStatus": lambda rv: 1, "ApprovalStatusDescription": lambda rv: "Goedgekeurd",
            "Description": lambda rv: f"Order {number(rv)}",
            "WarehouseCode": lambda rv: "1", "WarehouseDescription": lambda rv: "Hoofdmagazijn",
        })
    return out


def _document_lines() -> dict[str, Gen]:
    def item_view(rv: RecordView) -> RecordView | None:
        return _ref_view(rv, "logistics/items", rv.get("Item"))

    def qty(rv: RecordView) -> float:
        return float(1 + rv.rf("Quantity") % 10)

    def price(rv: RecordView) -> float:
        it = item_view(rv)
        return it.get("StandardSalesPrice") if it is not None and it.get("StandardSalesPrice") is not None else 10.0

    def amount(rv: RecordView) -> float:
        return round(qty(rv) * price(rv), 2)

    return {
        "Item": lambda rv: _ref_key(rv, "logistics/items", _ref_index(rv, "logistics/items", "Item")),
        "Description": lambda rv: (lambda it: None if it is None else it.get("Description"))(item_view(rv)),
        "Quantity": qty, "UnitPrice": price, "NetPrice": price,
        "AmountFC": amount, "AmountDC": amount,
        "VATPercentage": lambda rv: 0.21, "VATCode": lambda rv: "2", "VATCodeDescription": lambda rv: "BTW 21%",
        "VATAmountFC": lambda rv: round(amount(rv) * 0.21, 2), "VATAmountDC": lambda rv: round(amount(rv) * 0.21, 2),
        "VATAmount": lambda rv: round(amount(rv) * 0.21, 2),
        "Discount": lambda rv: 0.0,
        "GLAccount": lambda rv: (lambda it: None if it is None else it.get("GLRevenue"))(item_view(rv)),
        "UnitCode": lambda rv: (lambda it: None if it is None else it.get("Unit"))(item_view(rv)),
        "UnitDescription": lambda rv: (lambda it: None if it is None else it.get("UnitDescription"))(item_view(rv)),
        "DeliveryDate": lambda rv: None,
    }


def _projects() -> dict[str, Gen]:
    types = [(2, "Vaste prijs"), (3, "Nacalculatie"), (4, "Niet declarabel"), (5, "Vooruitbetaald")]
    return {
        "Code": lambda rv: f"P{rv.i:05d}",
        "Description": lambda rv: f"{_pick(pools.PROJECTS, rv.r)} {rv.i}",
        "Type": lambda rv: _pick(types, rv.r >> 4)[0],
        "TypeDescription": lambda rv: _pick(types, rv.r >> 4)[1],
        "StartDate": lambda rv: day_floor(rv.created()),
        "EndDate": lambda rv: day_floor(rv.created()) + (30 + (rv.r >> 9) % 300) * DAY_MS if rv.r % 3 else None,
        "BudgetedAmount": lambda rv: float(1000 * (1 + (rv.r >> 13) % 50)),
        "Manager": lambda rv: rv.store.user_id, "ManagerFullname": lambda rv: rv.store.user_name,
        "BlockEntry": lambda rv: False, "BlockInvoicing": lambda rv: False,
    }


def _divisions() -> dict[str, Gen]:
    def name(rv: RecordView) -> str:
        lst = rv.store.all_divisions
        code = rv.key()
        pos = lst.index(code) if code in lst else rv.i - 1
        return pools.DIVISION_NAMES[pos % len(pools.DIVISION_NAMES)] + ("" if pos < len(pools.DIVISION_NAMES) else f" {pos}")
    return {
        "Description": name, "CustomerName": name,
        "Current": lambda rv: rv.key() == rv.store.current_division,
        "Hid": lambda rv: rv.key(),
        "Country": lambda rv: "NL", "Currency": lambda rv: "EUR", "Legislation": lambda rv: "NL",
        "Status": lambda rv: 1, "BlockingStatus": lambda rv: 0,
        "IsMainDivision": lambda rv: rv.i == 1, "IsDossierDivision": lambda rv: False,
        "IsPracticeDivision": lambda rv: False, "IsHRDivision": lambda rv: False,
        "StartDate": lambda rv: 1546300800000, "ArchiveDate": lambda rv: None,
        "Customer": lambda rv: random_guid(stable_customer(rv)), "CustomerCode": lambda rv: f"{rv.key()}",
    }


def stable_customer(rv: RecordView) -> int:
    return mix(rv.store.seed ^ 0xC0FFEE)


CORE: dict[str, Callable[[], dict[str, Gen]]] = {
    "crm/accounts": _accounts, "crm/contacts": _contacts, "financial/glaccounts": _glaccounts,
    "financial/journals": _journals, "logistics/items": _items,
    "financialtransaction/transactionlines": _transaction_lines,
    "salesinvoice/salesinvoices": lambda: _document_header("salesinvoice/salesinvoicelines", 24_000_000, "invoice"),
    "salesinvoice/salesinvoicelines": _document_lines,
    "salesorder/salesorders": lambda: _document_header("salesorder/salesorderlines", 5_000, "order"),
    "salesorder/salesorderlines": _document_lines,
    "project/projects": _projects,
    "system/divisions": _divisions, "hrm/divisions": _divisions, "system/alldivisions": _divisions,
    "system/getmostrecentlyuseddivisions": _divisions,
}


def build_generators(store: DataStore, ds: Dataset) -> dict[str, Gen]:
    core = CORE[ds.id]() if ds.id in CORE else {}
    out: dict[str, Gen] = {}
    for name, code in ds.types.items():
        if name in core and name != ds.key_field:
            out[name] = core[name]
        else:
            out[name] = _generic(store, ds, name, code)
    return out
