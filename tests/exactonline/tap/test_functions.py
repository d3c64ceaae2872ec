"""tap-exactonline: Exact's read/ functions through custom streams, and beta endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs

from tests.exactonline.tap.helpers import data_requests, run_tap, start_sandbox, tap_config, write_store


def test_exactonline_tap_read_function_as_custom_stream(tmp_path):
    eo = start_sandbox(seed=31, sizes={"read/financial/ReceivablesList": 70})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        item = eo.key_of("logistics/Items", 1, 100001)
        config = tap_config(eo, store, divisions=[100001], custom_streams=[
            {"name": "receivables", "endpoint": "/read/financial/ReceivablesList"},
            {"name": "item_details", "endpoint": "/read/logistics/ItemDetailsByID",
             "query": {"itemId": f"guid'{item}'"}},
        ])
        run = run_tap(config, ["receivables", "item_details"])
        receivables = run.records["receivables"]
        assert len(receivables) == 70 and len({r["HID"] for r in receivables}) == 70
        assert run.schemas["receivables"]["key_properties"] == ["Division", "HID"]
        assert "AccountName" in run.schemas["receivables"]["schema"]["properties"]
        details = data_requests(eo, "/read/logistics/ItemDetailsByID")
        assert parse_qs(details[0]["query"])["itemId"] == [f"guid'{item}'"]
        assert run.records["item_details"] and run.schemas["item_details"]["key_properties"] == \
            ["Division", "ID"]
    finally:
        eo.stop()


def test_exactonline_tap_beta_endpoint_stream(tmp_path):
    """Beta endpoints live at /api/v1/beta/{division}/…; their streams are named beta_…"""
    eo = start_sandbox(seed=32, sizes={"budget/BudgetScenarios": 75})
    try:
        store = tmp_path / "tokens.json"
        write_store(store, eo.issue_tokens())
        run = run_tap(tap_config(eo, store, divisions=[100001]), ["beta_budget_budgetscenarios"])
        rows = run.records["beta_budget_budgetscenarios"]
        assert len(rows) == 75 and len({r["ID"] for r in rows}) == 75
        pages = data_requests(eo, "/budget/BudgetScenarios")
        assert [p["path"] for p in pages] == ["/api/v1/beta/100001/budget/BudgetScenarios"] * 2
        assert run.schemas["beta_budget_budgetscenarios"]["key_properties"] == ["Division", "ID"]
    finally:
        eo.stop()
