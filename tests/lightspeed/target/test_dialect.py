"""target-lightspeed's dialect without a server: the checks made before anything is sent and the
requests it builds (products updated through 2.1, sales through 0.9, read-only fields of tap rows
left out, an update carrying the model's required fields)."""

from __future__ import annotations

import pytest

from connector_core.publish import PublishItem, Reject
from connector_core.publish.mapping import StreamMapping
from lightspeed_client import LightspeedConnection
from target_lightspeed.dialect import LightspeedDialect

DIALECT = LightspeedDialect(LightspeedConnection({"base_url": "https://shop.retail.lightspeed.app/api/2.0",
                                                  "token": "t"}))


def item(entity: str, method: str, record: dict, **mapping: object) -> PublishItem:
    stream_mapping = StreamMapping.from_config("s", {"entity": entity, "method": method, **mapping}, where="mappings.s")
    return PublishItem.from_record("s", record, stream_mapping)


def test_a_tap_row_is_written_back_without_its_read_only_fields():
    row = {"id": "c-1", "first_name": "Ada", "last_name": "Lovelace", "version": 17, "balance": "12.50",
           "created_at": "2020-01-01T00:00:00+00:00", "_sdc_deleted_at": None}
    request = DIALECT.build(item("/customers/{customer_id}", "PUT", row, path={"customer_id": "id"}),
                            "PUT", "/customers/{customer_id}", {"customer_id": "c-1"})
    assert request.url == "https://shop.retail.lightspeed.app/api/2.0/customers/c-1"
    assert request.json == {"first_name": "Ada", "last_name": "Lovelace"}


def test_an_unknown_field_or_a_wrong_type_is_rejected_naming_it():
    with pytest.raises(Reject, match="field nickname is not in CustomerBase"):
        DIALECT.check(item("/customers", "POST", {"first_name": "A", "last_name": "B", "nickname": "x"}))
    with pytest.raises(Reject, match="do_not_email"):
        DIALECT.check(item("/customers", "POST", {"first_name": "A", "last_name": "B", "do_not_email": "yes"}))


def test_a_create_needs_the_models_required_fields():
    with pytest.raises(Reject, match="last_name missing: creating /customers needs first_name, last_name"):
        DIALECT.check(item("/customers", "POST", {"first_name": "A"}))


def test_a_product_may_not_give_both_prices():
    with pytest.raises(Reject, match="price_including_tax or price_excluding_tax, not both"):
        DIALECT.check(item("/products", "POST", {"name": "Mug", "price_including_tax": 11.5,
                                                 "price_excluding_tax": 10}))


def test_a_product_is_updated_with_put_on_the_2_1_path():
    request = DIALECT.build(item("/products/{product_id}", "PUT", {"name": "Mug", "product_id": "p-9"}),
                            "PUT", "/products/{product_id}", {"product_id": "p-9"})
    assert request.url == "https://shop.retail.lightspeed.app/api/2.1/products/p-9"


def test_a_sale_is_registered_on_the_0_9_path():
    sale = {"register_id": "r-1", "status": "CLOSED",
            "register_sale_products": [{"product_id": "p-1", "quantity": 1, "price": 2.5}]}
    request = DIALECT.build(item("/api/register_sales", "POST", sale), "POST", "/api/register_sales", {})
    assert request.url == "https://shop.retail.lightspeed.app/api/register_sales"
    assert request.json == sale
    with pytest.raises(Reject, match="register_sale_products missing"):
        DIALECT.build(item("/api/register_sales", "POST", {"register_id": "r-1"}), "POST", "/api/register_sales", {})


def test_an_update_carries_the_required_fields_even_when_unchanged():
    full = item("/customers/{customer_id}", "PUT", {"first_name": "Ada", "last_name": "Lovelace", "note": "new",
                                                    "customer_id": "c-1"})
    changed_only = PublishItem(**{**full.__dict__, "payload": {"note": "new"}})
    request = DIALECT.build(changed_only, "PUT", "/customers/{customer_id}", {"customer_id": "c-1"})
    assert request.json == {"note": "new", "first_name": "Ada", "last_name": "Lovelace"}


def test_upsert_matches_only_on_what_lightspeed_can_look_up():
    with pytest.raises(Reject, match="UPSERT matches on name, which Lightspeed cannot look up /brands by"):
        DIALECT.check(item("/brands", "UPSERT", {"name": "Acme"}, match=["name"]))
    DIALECT.check(item("/customers", "UPSERT", {"first_name": "A", "last_name": "B", "email": "a@b.c"},
                       match=["email"]))


def test_a_method_the_entity_lacks_is_rejected():
    with pytest.raises(Reject, match="PUT is not allowed on /price_books/{price_book_id}"):
        DIALECT.check(item("/price_books/{price_book_id}", "PUT", {"name": "x", "price_book_id": "b"}))
