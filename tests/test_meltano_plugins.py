"""meltano.yml declares each of the suite's plugins as the plugin itself describes them.

For every custom tap and target: each setting the plugin defines is declared (so `meltano config`
and the `TAP_*`/`TARGET_*` environment variables reach it), nothing is declared that the plugin's
`--about` does not list, secrets are marked sensitive and nothing else is, the values meltano.yml
gives where the plugin has a default are that default, and the capabilities are the plugin's.
"""

from __future__ import annotations

import importlib
import json
import subprocess
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from singer_sdk.plugin_base import PluginBase

ROOT = Path(__file__).resolve().parents[1]
VENDORS = [v for v in json.loads((ROOT / "vendors.json").read_text())["vendors"] if v.get("tap")]


def plugin_class(executable: str) -> type[PluginBase]:
    """The singer-sdk plugin class named ``executable`` in its console script's module."""
    (script,) = entry_points(group="console_scripts", name=executable)
    module = importlib.import_module(script.module)
    (plugin,) = {c for c in vars(module).values()
                 if isinstance(c, type) and issubclass(c, PluginBase)
                 and getattr(c, "name", None) == executable}
    return plugin


PLUGINS = {"extractors": [plugin_class(v["tap"]) for v in VENDORS],
           "loaders": [plugin_class(v["target"]) for v in VENDORS]}
# Settings meltano.yml may keep from the plugin's value: where the project points paths elsewhere.
PROJECT_VALUES = {"token_store", "results_path", "rejects_path"}
# The targets declare every setting --about lists but these sub-settings of SDK objects.
SDK_EXTRA_SETTINGS = {"faker_config.seed", "faker_config.locale", "stream_maps.__else__"}
# The connection's credentials (the registry's "secrets" of each vendor) must be sensitive.
CREDENTIALS = {v[part]: set(v["secrets"]) for v in VENDORS for part in ("tap", "target")}


@pytest.mark.parametrize(("kind", "plugin"), [(k, p) for k, ps in PLUGINS.items() for p in ps],
                         ids=lambda p: getattr(p, "name", p))
def test_meltano_yml_declares_the_plugin_as_it_describes_itself(kind, plugin):
    about = json.loads(subprocess.run(
        [str(ROOT / ".venv" / "bin" / plugin.name), "--about", "--format", "json"],
        check=True, capture_output=True, text=True, timeout=120).stdout)
    listed = about["settings"]["properties"]
    # The plugin's own settings, read in a fresh process: singer-sdk adds its built-in settings to
    # the class's schema once a plugin has run in this one (the standard tests run them in-process).
    own = json.loads(subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c",
         f"import json; from {plugin.__module__} import {plugin.__name__} as P; "
         "print(json.dumps(sorted(P.config_jsonschema['properties'])))"],
        check=True, capture_output=True, text=True, timeout=120).stdout)
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (entry,) = [p for p in project["plugins"][kind] if p["name"] == plugin.name]
    declared = {s["name"]: s for s in entry["settings"]}

    assert set(own) <= set(declared), f"not declared: {sorted(set(own) - set(declared))}"
    assert set(declared) <= set(listed), f"unknown: {sorted(set(declared) - set(listed))}"
    if kind == "loaders":
        assert set(declared) == set(listed) - SDK_EXTRA_SETTINGS
    secret = {name for name, schema in listed.items() if schema.get("secret")}
    assert secret >= CREDENTIALS[plugin.name]
    assert {name for name, s in declared.items() if s.get("sensitive")} == secret & set(declared)
    for name, setting in declared.items():
        default = listed[name].get("default")
        if "value" in setting and default is not None and name not in PROJECT_VALUES:
            assert str(setting["value"]) == str(default), name
    assert set(entry["capabilities"]) <= set(about["capabilities"])
