"""The batch publisher's reconciliation of answers the emulator does not give (in-process, a scripted
connection): counts that disagree, errors that name no item, no ``affected_ids``, an answer without
``input_response``."""

from __future__ import annotations

import logging
import typing as t

import pytest

from connector_core.publish import Journal, PublishError, PublishItem, StreamMapping
from target_saleslayer.dialect import SalesLayerDialect
from target_saleslayer.publisher import SalesLayerPublisher
from tests.target_runner import read_jsonl

MAPPING = StreamMapping(stream="products", entity="/products")


class ScriptedConnection:
    """Answers each import call with the next scripted answer; keeps the forms."""

    api_version = "1.18"
    session = None
    retry_policy = None
    timeout = 10

    def __init__(self, *answers: dict) -> None:
        self.answers = list(answers)
        self.forms: list[list[tuple[str, str]]] = []

    def import_call(self, form):
        self.forms.append(form)
        return self.answers.pop(0)

    def follow(self, url):  # pragma: no cover - the scripted answers give no tracking URL
        raise AssertionError(url)


def publish(tmp_path, records: list[dict], *answers: dict) -> tuple[list[dict], list[dict]]:
    connection: t.Any = ScriptedConnection(*answers)
    journal = Journal(tmp_path / "results.jsonl", tmp_path / "rejects.jsonl")
    publisher = SalesLayerPublisher(SalesLayerDialect(connection), journal, connection=connection,
                                    logger=logging.getLogger("test-publisher"))
    publisher.publish([PublishItem.from_record("products", r, MAPPING) for r in records])
    journal.close()
    return read_jsonl(tmp_path / "results.jsonl"), read_jsonl(tmp_path / "rejects.jsonl")


def response(**fields: t.Any) -> dict:
    return {"version": "1.18", "time": 0, "action": "input", "error": 0,
            "input_response": {"result": 1, "errors": [], **fields}}


def test_counts_that_disagree_are_a_warning_and_without_affected_ids_items_are_imported(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    results, rejects = publish(tmp_path, [{"REF": "A"}, {"REF": "B"}, {"REF": "C", "_sdc_deleted_at": "2025"}],
                               response(new_items={"products": 5}, updated_items={}, deleted_items={"products": 1}))
    assert rejects == [] and [(r["key"], r["action"]) for r in results] == [
        ("A", "imported"), ("B", "imported"), ("C", "deleted")]
    assert "disagree with the items sent: 3 sent, 0 refused" in caplog.text and "6 new" not in caplog.text
    assert "it reports 5 new, 0 updated, 1 deleted" in caplog.text


def test_errors_naming_no_item_reject_the_items_sales_layer_does_not_confirm(tmp_path):
    results, rejects = publish(tmp_path, [{"REF": "A"}, {"REF": "B"}], response(
        errors=["something went wrong"], new_items={"products": 1}, affected_ids={"products": {"41": "A"}}))
    assert [(r["key"], r["action"], r["remote_id"]) for r in results] == [("A", "created", 41)]
    assert [(r["key"], r["vendor_message"]) for r in rejects] == [("B", "something went wrong")]
    assert "name no item" in rejects[0]["reason"]


def test_an_answer_without_input_response_stops_the_run(tmp_path):
    with pytest.raises(PublishError, match="without an input_response"):
        publish(tmp_path, [{"REF": "A"}], {"version": "1.18", "error": 0})
    assert read_jsonl(tmp_path / "results.jsonl") == [] and read_jsonl(tmp_path / "rejects.jsonl") == []
