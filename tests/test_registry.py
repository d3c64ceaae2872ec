"""Every list of the suite's vendors agrees with the registry, ``vendors.json``.

Adding a vendor touches that one list (``scripts/dev/new_vendor.py`` does it); these tests name
each place that does not follow: the uv workspace, meltano.yml, the README's plugin table, the
settings-table script and the sandbox's emulator entry points.
"""

from __future__ import annotations

import json
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - pytest brings tomli on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
VENDORS = json.loads((ROOT / "vendors.json").read_text())["vendors"]
BUILT = [v for v in VENDORS if v.get("tap")]
SHARED_PACKAGES = {"connector-core", "sandbox"}


def vendor_packages() -> set[str]:
    return {v[part] for v in BUILT for part in ("client", "tap", "target") if v.get(part)}


def test_every_vendor_names_its_parts():
    names = [v["name"] for v in VENDORS]
    assert len(names) == len(set(names))
    for vendor in VENDORS:
        assert re.fullmatch(r"[a-z]+", vendor["name"]), vendor
        assert vendor["system"] and vendor["status"]
        for part in ("client", "tap", "target"):
            if vendor.get(part):
                assert vendor[part] == f"{vendor['name']}-client" if part == "client" else \
                    vendor[part] == f"{part}-{vendor['name']}"
                assert (ROOT / vendor[part] / "pyproject.toml").is_file(), vendor[part]


def test_uv_workspace_is_the_registry():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = set(project["tool"]["uv"]["workspace"]["members"])
    assert members - SHARED_PACKAGES == vendor_packages()
    assert members >= SHARED_PACKAGES
    distributions = {tomllib.loads((ROOT / m / "pyproject.toml").read_text())["project"]["name"]
                     for m in members}
    assert set(project["project"]["dependencies"]) == distributions
    assert set(project["tool"]["uv"]["sources"]) == distributions


def test_meltano_yml_declares_every_plugin_of_the_registry():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    ours = {}
    for kind in ("extractors", "loaders"):
        for plugin in project["plugins"][kind]:
            pip_url = plugin.get("pip_url", "")
            if "-e ./" in pip_url and "inherit_from" not in plugin:
                ours[plugin["name"]] = (kind, pip_url)
    expected = {v["tap"]: "extractors" for v in BUILT} | {v["target"]: "loaders" for v in BUILT}
    assert {name: kind for name, (kind, _) in ours.items()} == expected
    for vendor in BUILT:
        for part in ("tap", "target"):
            pip_url = ours[vendor[part]][1].split()
            assert f"./{vendor[part]}" in pip_url and f"./{vendor['client']}" in pip_url, pip_url


def test_readme_plugin_table_is_the_registry():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| system | tap | target | status |"):].split("\n\n")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    expected = []
    for v in VENDORS:
        if v.get("tap"):
            cells = [f"[{v[p]}]({v[p]}/README.md)" for p in ("tap", "target")]
        else:
            cells = [f"tap-{v['name']}", f"target-{v['name']}"]
        expected.append([v["system"], *cells, v["status"]])
    assert rows == expected


def test_settings_table_script_covers_every_plugin():
    script = (ROOT / "scripts" / "dev" / "update_readme_settings.py").read_text()
    assert "vendors.json" in script  # it derives its plugin list from the registry


@pytest.mark.parametrize("vendor", BUILT, ids=lambda v: v["name"])
def test_every_plugin_has_its_console_script(vendor):
    scripts = {ep.name for ep in entry_points(group="console_scripts")}
    assert {vendor["tap"], vendor["target"]} <= scripts


def test_sandbox_registers_an_emulator_per_vendor():
    registered = {ep.name for ep in entry_points(group="connector_sandbox.emulators")}
    assert registered == {v["emulator"] for v in BUILT}
