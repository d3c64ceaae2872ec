"""singer-sdk's standard target tests, run in-process against the Sales Layer emulator's Import connector.

The standard test streams have arbitrary names and fields (``id``, ``metric``, ``fruits``, ``clientName``...);
none has a ``REF`` or an ``ID``, by which every Sales Layer item is named. The config maps every stream of
the SDK's test files to the import table ``products``, so every standard record is rejected before anything
is sent: its key property missing (the sink's check), or no REF (or ID) (the dialect's). An autouse fixture
checks, for each test, that every RECORD line of its ``.singer`` file ended in exactly one line of the
rejects file, with one of those reasons, and that the emulator received no request at all. What the
emulator does with standard records mapped to real fields is shown by
``test_a_standard_file_mapped_to_product_fields_imports_every_record``.

Standard tests included: every test of ``singer_sdk.testing.suites.target_tests`` except
``record_missing_key_property`` (the SDK expects ``MissingKeyPropertiesError`` to stop the run;
connector-core's ``PublishSink`` rejects such a record with "key property id missing" and goes on),
replaced by ``TargetRejectsRecordMissingKey``; ``multiple_state_messages`` is replaced by
``TargetRelaysEveryState`` (tests/standard_target.py): every STATE passed on, in order.
"""

from __future__ import annotations

import atexit
import importlib.resources
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import target_test_streams

from target_saleslayer.target import TargetSalesLayer
from tests.saleslayer.target.helpers import start_sandbox, target_config
from tests.standard_target import STREAMS, TargetRejectsRecordMissingKey, rejected_unsent, standard_test_class
from tests.target_runner import read_jsonl

# One worker runs the whole module under `pytest -n 2 --dist loadgroup` (its emulator and files are
# module-level; the per-test checks read the shared results and rejects files).
pytestmark = [pytest.mark.xdist_group("saleslayer_target_standard"), pytest.mark.timeout(180)]

NO_REF = "the record has no REF (or ID)"

SANDBOX = start_sandbox(sizes={"catalogue": 3, "products": 5, "product_formats": 5, "brands": 1})
atexit.register(SANDBOX.stop)
TMP = Path(tempfile.mkdtemp(prefix="target-sl-standard-"))
atexit.register(shutil.rmtree, TMP, True)

CONFIG = target_config(SANDBOX, TMP, {stream: {"entity": "products"} for stream in STREAMS})


def reason_fits(reason: str, record: dict, key_properties: list[str]) -> bool:
    """The key property missing (the sink's check, first), else no REF or ID."""
    missing = [k for k in key_properties if record.get(k) is None]
    if missing:
        return reason == f"key property {', '.join(missing)} missing"
    return reason.startswith(NO_REF)


class TestTargetSalesLayerStandard(standard_test_class(
        TargetSalesLayer, CONFIG, SANDBOX,
        extra=[TargetRejectsRecordMissingKey])):  # named record_missing_key_property: runs that file
    every_record_rejected_unsent = rejected_unsent(CONFIG, SANDBOX, reason_fits)


def test_a_standard_file_mapped_to_product_fields_imports_every_record(tmp_path):
    """optional_attributes, with a stream map giving each record a product's import fields: the four
    records become four new products in ONE import call (tracked to its end), the two with ``optional``
    carrying it as their English description; the STATE is passed on."""
    from singer_sdk.testing.runners import TargetTestRunner

    sandbox = start_sandbox(sizes={"catalogue": 3, "products": 5, "product_formats": 5, "brands": 1})
    try:
        config = target_config(
            sandbox, tmp_path, {"test_optional_attributes": {"entity": "products"}},
            stream_maps={"test_optional_attributes": {
                "REF": "'SDK-' + str(id)", "name_en": "'SDK product ' + str(id)",
                "description_en": "record.get('optional') or ''", "id": "__NULL__", "optional": "__NULL__",
                "__key_properties__": ["REF"]}})
        runner = TargetTestRunner(TargetSalesLayer, config=config,
                                  input_filepath=importlib.resources.files(target_test_streams)
                                  / "optional_attributes.singer")
        runner.sync_all()
        results = [e for e in read_jsonl(tmp_path / "results.jsonl") if "checkpoint" not in e]
        assert read_jsonl(tmp_path / "rejects.jsonl") == []
        assert [(r["key"], r["action"], r["call"], r["tracking"]) for r in results] == [
            (f"SDK-{n}", "created", 1, "end") for n in (1, 2, 3, 4)]
        assert sandbox.counters["imports"] == 1 and sandbox.count("products") == 9
        rows = {n: sandbox.store.row("products", sandbox.store.find_ref("products", f"SDK-{n}")) for n in (1, 2, 3, 4)}
        assert [(rows[n]["product_name_en"], rows[n]["product_description_en"]) for n in (1, 2, 3, 4)] == [
            ("SDK product 1", "This is optional"), ("SDK product 2", ""), ("SDK product 3", "Also optional"),
            ("SDK product 4", "")]
        assert runner.state_messages == [{"test_optional_attributes": 4}]
    finally:
        sandbox.stop()
