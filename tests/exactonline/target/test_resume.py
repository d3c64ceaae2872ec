"""target-exactonline after a crash that lost the answer to a POST: Exact is asked, not POSTed twice.

The journal notes each POST in ``results.pending.jsonl`` before sending it. A rerun that meets such
a note for a record looks the object up first (the dialect's ``find_created``: by the key the
record carries, else by the mapping's ``match`` fields) and POSTs only if Exact has no such object.
"""

from __future__ import annotations

import json

from connector_core.publish import fingerprint
from connector_core.publish.journal import pending_path_for
from tests.exactonline.target.helpers import DIVISION, record, run_target, schema, start_sandbox, target_config, writes

ITEMS = "logistics/Items"


def test_target_exactonline_an_unanswered_post_is_looked_up_before_it_is_sent_again(tmp_path):
    eo = start_sandbox(seed=71)
    try:
        mappings = {"items": {"entity": "/logistics/Items", "method": "POST", "match": "Code"}}
        config = target_config(eo, tmp_path, mappings, division=DIVISION)
        created = {"Code": "LOST-1", "Description": "answer lost"}  # Exact created it
        missing = {"Code": "LOST-2", "Description": "never arrived"}  # the crash came first
        existing = eo.create(ITEMS, dict(created), DIVISION)
        before = eo.count(ITEMS, DIVISION)
        pending = pending_path_for(tmp_path / "results.jsonl")
        pending.write_text("".join(json.dumps({"sending": fingerprint("items", r)}) + "\n"
                                   for r in (created, missing)))

        run = run_target(config, [schema("items"), record("items", created),
                                  record("items", missing)], tmp_path)
        assert [w["method"] for w in writes(eo)] == ["POST"]  # only the one Exact does not have
        assert eo.count(ITEMS, DIVISION) == before + 1
        recovered = [r for r in run.results if r.get("recovered")]
        assert [r["remote_id"] for r in recovered] == [existing["ID"]]
        assert "the interrupted run's POST created it" in run.stderr
        lookups = [e for e in eo.request_log() if e["method"] == "GET"]
        assert len(lookups) == 2 and all(e["status"] == 200 for e in lookups)
    finally:
        eo.stop()
