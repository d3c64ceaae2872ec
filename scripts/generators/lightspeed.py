"""Generate every Lightspeed Retail X-Series artifact from the vendor's documents: the tap's stream
catalog, the target's entities and the emulator's API catalog.

Sources (``../shared/specs/lightspeed``, see its SOURCES.md): ``x-series-api-2.0-openapi.json`` (the
API 2.0 OpenAPI document) and ``x-series-api-collection.postman_collection.json`` (the official Postman
collection: the 0.9 and 2.1 writes), both from github.com/dansleboby/lightspeed-xseries-sdk @bb19b98
(Apache-2.0). The plugins' reading is :mod:`lightspeed_plugins`, the emulator's
:mod:`lightspeed_emulator`, each on its own.

Writes (``--check``: writes nothing, exits 1 naming the stale files):
- ``tap-lightspeed/tap_lightspeed/catalog.json``;
- ``target-lightspeed/target_lightspeed/entities.json``;
- ``sandbox/connector_sandbox/lightspeed/api_catalog.json``.

Usage: python scripts/generators/lightspeed.py [--specs DIR] [--check]
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

import lightspeed_emulator
import lightspeed_plugins
import outputs

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "tap": ROOT / "tap-lightspeed" / "tap_lightspeed" / "catalog.json",
    "target": ROOT / "target-lightspeed" / "target_lightspeed" / "entities.json",
    "emulator": ROOT / "sandbox" / "connector_sandbox" / "lightspeed" / "api_catalog.json",
}
OPENAPI = "x-series-api-2.0-openapi.json"
POSTMAN = "x-series-api-collection.postman_collection.json"
SOURCE = {"repo": "dansleboby/lightspeed-xseries-sdk", "commit": "bb19b98", "license": "Apache-2.0",
          "paths": [f"specs/API 2.0 - v1.0.json ({OPENAPI})", f"specs/postman collection ({POSTMAN})"]}


def render(obj: t.Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def derive(specs: Path) -> dict[Path, str]:
    doc = json.loads((specs / OPENAPI).read_text(encoding="utf-8"))
    postman = json.loads((specs / POSTMAN).read_text(encoding="utf-8"))
    wanted = {"tap": lightspeed_plugins.tap_catalog(doc, SOURCE),
              "target": lightspeed_plugins.target_entities(doc, SOURCE),
              "emulator": lightspeed_emulator.emulator_catalog(doc, postman, SOURCE)}
    return {path: render(wanted[part]) for part, path in OUTPUTS.items()}


if __name__ == "__main__":
    sys.exit(outputs.main(__doc__ or "", "lightspeed", derive))
