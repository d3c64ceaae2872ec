"""singer-sdk's standard target tests, run in-process against the Lightspeed Retail X-Series emulator.

The standard test streams have arbitrary names and fields (``id``, ``metric``, ``fruits``,
``clientName``, ``user_id``…). The config maps every stream of the SDK's test files to
``POST /api/register_sales`` (a register sale, model ``RegisterSale``): its ``id`` is read-only,
it has ``user_id``, and a sale needs ``register_id`` and ``register_sale_products``, which no
standard record has. target-lightspeed's dialect checks each record against the request model
before anything is sent, so every standard record is rejected with its reason: fields that are not
in ``RegisterSale``, a ``user_id`` of the wrong type, the sale's required fields missing, or the key
property missing (the sink's check, before the dialect). An autouse fixture checks, for each test,
that every RECORD line of its ``.singer`` file ended in exactly one line of the rejects file, with a
reason of one of those four forms naming that record's fields, and that the emulator received no
request at all: published or rejected, never silently dropped, and nothing spent of the store's
5-minute budget. What the emulator does with standard records mapped to real fields is shown by
``test_a_standard_file_mapped_to_brand_fields_publishes_every_record``.

Standard tests included: every test of ``singer_sdk.testing.suites.target_tests`` except
``record_missing_key_property`` (the SDK expects ``MissingKeyPropertiesError`` to stop the run;
connector-core's ``PublishSink`` rejects such a record with "key property id missing" and goes on),
replaced by ``TargetRejectsRecordMissingKey``; ``multiple_state_messages`` is replaced by
``TargetRelaysEveryState`` (tests/standard_target.py): every STATE passed on, in order.
"""

from __future__ import annotations

import atexit
import importlib.resources
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import target_test_streams

from target_lightspeed.target import TargetLightspeed
from tests.lightspeed.target.helpers import start_sandbox, target_config
from tests.standard_target import STREAMS, TargetRejectsRecordMissingKey, rejected_unsent, standard_test_class
from tests.target_runner import read_jsonl

# One worker runs the whole module under `pytest -n 2 --dist loadgroup` (its emulator and files
# are module-level; the per-test checks read the shared results and rejects files).
pytestmark = pytest.mark.xdist_group("lightspeed_target_standard")

ENTITY = "/api/register_sales"
MODEL = "RegisterSale"
SALE_NEEDS = "register_id, register_sale_products missing: creating /api/register_sales needs " \
             "register_id, register_sale_products"

SANDBOX = start_sandbox(sizes={"/brands": 5})
atexit.register(SANDBOX.stop)
TMP = Path(tempfile.mkdtemp(prefix="target-ls-standard-"))
atexit.register(shutil.rmtree, TMP, True)

CONFIG = target_config(SANDBOX, TMP, {stream: {"entity": ENTITY, "method": "POST"} for stream in STREAMS})


def reason_fits(reason: str, record: dict, key_properties: list[str]) -> bool:
    """Whether ``reason`` is the one a standard record must get: its key property missing (the
    sink's check), else the fields not in RegisterSale named (``id`` is read-only there, so never
    named; ``user_id`` is one of its fields), else a wrong ``user_id`` type, else the sale's
    required fields missing."""
    missing = [k for k in key_properties if record.get(k) is None]
    if missing:
        return reason == f"key property {', '.join(missing)} missing"
    strangers = sorted(set(record) - {"id", "user_id"})
    if strangers:
        fields = f"field {strangers[0]} is" if len(strangers) == 1 else f"fields {', '.join(strangers)} are"
        return reason == f"{fields} not in {MODEL} ({ENTITY})"
    if "user_id" in record and not isinstance(record["user_id"], str) and record["user_id"] is not None:
        return re.fullmatch(rf"user_id: {re.escape(repr(record['user_id']))} is not of type .*", reason) is not None
    return reason == SALE_NEEDS



class TestTargetLightspeedStandard(standard_test_class(
        TargetLightspeed, CONFIG, SANDBOX,
        extra=[TargetRejectsRecordMissingKey])):  # named record_missing_key_property: runs that file
    every_record_rejected_unsent = rejected_unsent(CONFIG, SANDBOX, reason_fits)


def test_a_standard_file_mapped_to_brand_fields_publishes_every_record(tmp_path):
    """optional_attributes, with a stream map giving each record a brand's fields: the four records
    become four brands (POST /brands) named after their ids, the two with ``optional`` carrying it
    in the request (the API keeps it, its read model does not show it); the STATE is passed on."""
    from singer_sdk.testing.runners import TargetTestRunner

    sandbox = start_sandbox(sizes={"/brands": 5})
    try:
        config = target_config(
            sandbox, tmp_path, {"test_optional_attributes": {"entity": "/brands", "method": "POST"}},
            stream_maps={"test_optional_attributes": {
                "name": "'SDK brand ' + str(id)", "description": "record.get('optional') or ''",
                "id": "__NULL__", "optional": "__NULL__", "__key_properties__": ["name"]}})
        runner = TargetTestRunner(TargetLightspeed, config=config,
                                  input_filepath=importlib.resources.files(target_test_streams)
                                  / "optional_attributes.singer")
        runner.sync_all()
        results = [e for e in read_jsonl(tmp_path / "results.jsonl") if "checkpoint" not in e]
        assert read_jsonl(tmp_path / "rejects.jsonl") == []
        # Sent concurrently (the target's default concurrency): in any order. CreateBrand answers 200.
        assert sorted((r["method"], r["status"]) for r in results) == [("POST", 200)] * 4, results
        assert sorted((b["path"], b["body"]["name"], b["body"]["description"]) for b in sandbox.write_bodies) == [
            ("/api/2.0/brands", "SDK brand 1", "This is optional"), ("/api/2.0/brands", "SDK brand 2", ""),
            ("/api/2.0/brands", "SDK brand 3", "Also optional"), ("/api/2.0/brands", "SDK brand 4", "")]
        # The brand as the API reads it back (its read model, Brand, has no description).
        created = [sandbox.get("/brands", r["remote_id"]) for r in results]
        assert sorted(c["name"] for c in created) == [f"SDK brand {n}" for n in (1, 2, 3, 4)]
        assert sandbox.count("/brands") == 9
        assert runner.state_messages == [{"test_optional_attributes": 4}]
    finally:
        sandbox.stop()
