"""Every plugin, run as users run it: a bad setting or an unreachable URL ends the run with ONE clear
line on stderr naming the setting (and the value or address), a non-zero exit, no traceback.

Bad settings fail before any request, so no sandbox is needed; an unreachable URL is a port where
nothing listens (127.0.0.1:9, refused) or a host that cannot resolve (``.invalid``, RFC 6761).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tests.meltano_env import own_meltano

ROOT = Path(__file__).resolve().parents[1]
REFUSED = "http://127.0.0.1:9"
UNKNOWN_HOST = "http://nonexistent.invalid"
PRIVATE_KEY = "cw-private-key-7d41"
CLIENT_SECRET = "eo-client-secret-9b2e"

CW = {"company_id": "acme", "public_key": "pub", "private_key": PRIVATE_KEY,
      "client_id": "6f1d0c2e-0000-4000-8000-00000000c1d1", "site": REFUSED}


def exact(tmp: Path) -> dict:
    return {"client_id": "eo-client", "client_secret": CLIENT_SECRET,
            "token_store": str(tmp / "tokens.json"), "refresh_token": "eo-seed-refresh-token",
            "base_url": REFUSED}


def publish(tmp: Path, mappings: dict) -> dict:
    return {"results_path": str(tmp / "results.jsonl"), "rejects_path": str(tmp / "rejects.jsonl"),
            "mappings": mappings}


CW_MAPPING = {"companies": {"entity": "/company/companies", "method": "UPSERT",
                            "match": ["identifier"]}}
EO_MAPPING = {"accounts": {"entity": "/crm/Accounts", "method": "UPSERT", "match": ["Code"]}}

PLUGINS: dict[str, t.Callable[[Path], dict]] = {
    "tap_connectwise": lambda tmp: dict(CW),
    "tap_exactonline": exact,
    "target_connectwise": lambda tmp: {**CW, **publish(tmp, CW_MAPPING)},
    "target_exactonline": lambda tmp: {**exact(tmp), "division": 1, **publish(tmp, EO_MAPPING)},
}


def run(module: str, config: dict, tmp: Path, *args: str, stdin: str = "",
        env: dict | None = None) -> subprocess.CompletedProcess:
    path = tmp / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run([sys.executable, "-m", module, "--config", str(path), *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


def assert_one_clear_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit non-zero; exactly one stderr line holds every needle, and it is the last error line."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if all(n in line for n in needles)]
    assert len(lines) == 1, (needles, proc.stderr[-3000:])
    assert error_lines(proc.stderr)[-1] == lines[0]
    return lines[0]


# -- bad settings ---------------------------------------------------------------------------------

# (module, setting, value, words of the message); None: the setting is removed
BAD_SETTINGS = [
    ("tap_connectwise", "page_size", "abc", 'page_size must be an integer between 1 and 1000; got "abc"'),
    ("tap_connectwise", "page_size", 5000, "page_size must be between 1 and 1000; got 5000"),
    ("tap_connectwise", "start_date", "yesterday", 'start_date must be an ISO 8601 date-time'),
    ("tap_connectwise", "company_id", None, "company_id is required but not set"),
    ("tap_exactonline", "requests_per_minute", "abc",
     'requests_per_minute must be an integer at least 1; got "abc"'),
    ("tap_exactonline", "request_timeout", 0, "request_timeout must be at least 1; got 0"),
    ("tap_exactonline", "start_date", "yesterday", 'start_date must be an ISO 8601 date-time'),
    ("tap_exactonline", "token_store", None, "token_store is required but not set"),
    ("tap_exactonline", "region", "mars", 'region must be one of nl, be, de'),
    ("tap_exactonline", "token_store_url", "mysql://u:hunter2@db/x",
     "token_store_url must be a postgresql:// URL"),
    ("target_connectwise", "concurrency", "abc", 'concurrency must be an integer at least 1; got "abc"'),
    ("target_connectwise", "concurrency", 0, "concurrency must be at least 1; got 0"),
    ("target_connectwise", "public_key", None, "public_key is required but not set"),
    ("target_exactonline", "error_allowance", "abc",
     'error_allowance must be an integer at least 1; got "abc"'),
    ("target_exactonline", "error_allowance", 0, "error_allowance must be at least 1; got 0"),
    ("target_exactonline", "client_secret", None, "client_secret is required but not set"),
]


def _config_with(module: str, setting: str, value: t.Any, tmp: Path) -> dict:
    config = PLUGINS[module](tmp)
    if value is None:
        config.pop(setting)
    else:
        config[setting] = value
    return config


@pytest.mark.parametrize(("module", "setting", "value", "words"), BAD_SETTINGS,
                         ids=[f"{m}-{s}-{v}" for m, s, v, _ in BAD_SETTINGS])
def test_a_bad_setting_is_one_line_naming_it(module, setting, value, words, tmp_path):
    proc = run(module, _config_with(module, setting, value, tmp_path), tmp_path)
    line = assert_one_clear_line(proc, words)
    assert "Config validation error: " in line
    assert "Config validation failed" not in proc.stderr  # singer-sdk's second line is gone


DISCOVER_CASES = [c for c in BAD_SETTINGS if c[0].startswith("tap_")]


@pytest.mark.parametrize(("module", "setting", "value", "words"), DISCOVER_CASES,
                         ids=[f"{m}-{s}-{v}" for m, s, v, _ in DISCOVER_CASES])
def test_discovery_refuses_a_bad_setting_too(module, setting, value, words, tmp_path):
    proc = run(module, _config_with(module, setting, value, tmp_path), tmp_path, "--discover")
    assert_one_clear_line(proc, words)
    assert proc.stdout == ""  # no catalog from bad settings


@pytest.mark.parametrize("module", list(PLUGINS))
def test_a_secret_of_the_wrong_type_is_named_but_masked(module, tmp_path):
    secret = "private_key" if "connectwise" in module else "client_secret"
    proc = run(module, _config_with(module, secret, 987654321, tmp_path), tmp_path)
    assert_one_clear_line(proc, f"{secret} must be a string; got ***")
    assert "987654321" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("module", list(PLUGINS))
def test_about_works_with_a_bad_config(module, tmp_path):
    proc = run(module, {"page_size": "abc", "start_date": "yesterday"}, tmp_path, "--about",
               "--format=json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "properties" in json.loads(proc.stdout)["settings"]


@pytest.mark.parametrize("module", list(PLUGINS))
def test_an_unreadable_config_file_is_one_line(module, tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", module, "--config", str(tmp_path / "broken.json")],
                          input="", capture_output=True, text=True, timeout=120)
    assert_one_clear_line(proc, "cannot read the config file", "broken.json")


@pytest.mark.parametrize("level", [{"TAP_CONNECTWISE_LOGLEVEL": "DEBUG"}, {"LOGLEVEL": "debug"}])
def test_debug_logging_shows_the_traceback(level, tmp_path):
    proc = run("tap_connectwise", dict(CW), tmp_path, env=level)
    assert proc.returncode != 0
    assert f"Cannot connect to {REFUSED}: connection refused" in proc.stderr
    assert "Traceback" in proc.stderr and "ConnectionRefusedError" in proc.stderr


def test_tap_exactonline_authorize_ends_an_error_with_one_line(tmp_path):
    config = {**exact(tmp_path), "base_url": None, "region": "mars"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v is not None}))
    proc = subprocess.run([sys.executable, "-c", "from tap_exactonline.tap import main; main()",
                           "authorize", "--config", str(path), "--timeout", "1"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "tap-exactonline authorize: region must be one of nl, be, de, co.uk, uk, com, us, es, fr; "
        "got 'mars'"]


# -- the targets' mappings ------------------------------------------------------------------------

BAD_MAPPINGS = [
    ({"c": {"entity": "/company/companies", "method": "UPSRT"}},
     'mappings.c.method must be one of POST, PUT, PATCH, DELETE, UPSERT; got "UPSRT"'),
    ({"c": {"entity": "/company/companies", "methd": "POST"}},
     "mappings.c.methd is not a mapping key (did you mean method?)"),
    ({"c": {"entity": "/company/companies", "method": 5}}, "mappings.c.method must be a string; got 5"),
    ({"c": {"method": "POST"}}, "mappings.c.entity is required but not set"),
    ({"c": {"entity": "company/companies", "method": "POST"}},
     "mappings.c.entity must be an endpoint path starting with '/'; got \"company/companies\""),
    ({"c": {"entity": "/company/companies", "method": "UPSERT", "match": []}},
     "mappings.c.match must name the field(s) an UPSERT finds the object by"),
    ({"c": {"entity": "/company/companies/{id}", "method": "PATCH", "path": {"idd": "x"}}},
     "mappings.c.path.idd names no {param} of /company/companies/{id}"),
    ({"c": {"entity": "/company/companies", "method": "DELETE", "required": ["name"]}},
     "mappings.c.required lists the fields a record needs to create an object"),
    ({"c": "POST /company/companies"}, 'mappings.c must be an object; got "POST /company/companies"'),
]


@pytest.mark.parametrize("module", ["target_connectwise", "target_exactonline"])
@pytest.mark.parametrize(("mappings", "words"), BAD_MAPPINGS, ids=[w[:40] for _, w in BAD_MAPPINGS])
def test_a_bad_mapping_fails_at_start_naming_it(module, mappings, words, tmp_path):
    config = {**PLUGINS[module](tmp_path), "mappings": mappings}
    messages = ('{"type":"SCHEMA","stream":"c","schema":{"type":"object","properties":{}},'
                '"key_properties":[]}\n{"type":"RECORD","stream":"c","record":{"name":"x"}}\n')
    proc = run(module, config, tmp_path, stdin=messages)
    assert_one_clear_line(proc, words)
    assert not (tmp_path / "results.jsonl").exists()  # nothing was read, nothing written


# -- unreachable URLs -----------------------------------------------------------------------------

def _fresh_tokens(tmp: Path) -> None:
    """A stored, valid access token: the run's first request is then an API request."""
    now = time.time()
    (tmp / "tokens.json").write_text(json.dumps({
        "access_token": "eo-access-token-5f0a", "refresh_token": "eo-refresh-token-77c3",
        "expires_at": now + 600, "obtained_at": now}))


TARGET_INPUT = {
    "target_connectwise": [{"type": "SCHEMA", "stream": "companies", "key_properties": [],
                            "schema": {"type": "object", "properties": {}}},
                           {"type": "RECORD", "stream": "companies",
                            "record": {"identifier": "Acme", "name": "Acme"}},
                           {"type": "STATE", "value": {"bookmarks": {"companies": 1}}}],
    "target_exactonline": [{"type": "SCHEMA", "stream": "accounts", "key_properties": [],
                            "schema": {"type": "object", "properties": {}}},
                           {"type": "RECORD", "stream": "accounts",
                            "record": {"Code": "ACME", "Name": "Acme"}},
                           {"type": "STATE", "value": {"bookmarks": {"accounts": 1}}}],
}

# (module, setting, value, address tried, request, a valid access token stored)
UNREACHABLE = [
    ("tap_connectwise", "site", REFUSED, REFUSED, "connection refused", False),
    ("tap_connectwise", "site", UNKNOWN_HOST, UNKNOWN_HOST, "unknown host", False),
    ("tap_connectwise", "base_url", f"{REFUSED}/v4_6_release/apis/3.0", REFUSED,
     "connection refused", False),
    ("tap_exactonline", "base_url", REFUSED, REFUSED, "connection refused", False),
    ("tap_exactonline", "base_url", UNKNOWN_HOST, UNKNOWN_HOST, "unknown host", False),
    ("tap_exactonline", "base_url", REFUSED, REFUSED, "connection refused", True),
    ("target_connectwise", "site", REFUSED, REFUSED, "connection refused", False),
    ("target_connectwise", "site", UNKNOWN_HOST, UNKNOWN_HOST, "unknown host", False),
    ("target_exactonline", "base_url", REFUSED, REFUSED, "connection refused", False),
    ("target_exactonline", "base_url", UNKNOWN_HOST, UNKNOWN_HOST, "unknown host", True),
]


@pytest.mark.parametrize(("module", "setting", "value", "address", "reason", "token"), UNREACHABLE,
                         ids=[f"{m}-{s}-{v}-{'api' if tok else 'first'}"
                              for m, s, v, _, _, tok in UNREACHABLE])
def test_an_unreachable_url_fails_on_the_first_attempt_naming_the_setting(
    module, setting, value, address, reason, token, tmp_path
):
    config = PLUGINS[module](tmp_path)
    config.pop("site", None)
    config[setting] = value
    if token:
        _fresh_tokens(tmp_path)
    stdin = "".join(json.dumps(m) + "\n" for m in TARGET_INPUT.get(module, []))
    proc = run(module, config, tmp_path, stdin=stdin)
    line = assert_one_clear_line(proc, f"Cannot connect to {address}: {reason}",
                                 f"Check the `{setting}` setting")
    assert "the first request to it in this run" in line
    # One attempt: no retry was logged, and a target passed no STATE on.
    assert "retrying in" not in proc.stderr
    assert "failed after" not in proc.stderr
    if module.startswith("target_"):
        assert proc.stdout == ""
    for secret in (PRIVATE_KEY, CLIENT_SECRET, "eo-access-token-5f0a", "eo-seed-refresh-token"):
        assert secret not in proc.stderr + proc.stdout


# -- under Meltano (one xdist worker runs every test of the group "meltano": they share .meltano/) -----

@pytest.fixture(scope="module")
def meltano_env(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("meltano")
    return {**os.environ, **own_meltano(tmp),
            "TARGET_JSONL_DESTINATION_PATH": str(tmp)}


def meltano(env: dict, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "meltano"), *args], cwd=ROOT,
                          env={**env, **extra_env}, capture_output=True, text=True, timeout=600)


@pytest.mark.xdist_group("meltano")
def test_meltano_invoke_shows_the_bad_setting(meltano_env):
    proc = meltano(meltano_env, "invoke", "tap-connectwise", "--discover",
                   TAP_CONNECTWISE_PAGE_SIZE="5000")
    assert proc.returncode != 0
    assert "page_size must be between 1 and 1000; got 5000" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.xdist_group("meltano")
def test_meltano_run_shows_the_unreachable_url(meltano_env):
    proc = meltano(meltano_env, "run", "tap-connectwise", "target-jsonl",
                   TAP_CONNECTWISE_SITE=REFUSED)
    assert proc.returncode != 0
    assert (f"Cannot connect to {REFUSED}: connection refused" in proc.stderr
            and "Check the `site` setting" in proc.stderr), proc.stderr[-3000:]
    assert "retrying in" not in proc.stderr and "Traceback" not in proc.stderr
