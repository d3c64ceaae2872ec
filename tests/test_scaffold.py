"""scripts/dev/new_vendor.py: a vendor it scaffolds is wired into every list of the suite and passes.

``test_a_scaffolded_vendor_is_wired_and_passes`` copies the repository's files (``git ls-files``,
uncommitted changes included) into a temporary folder, scaffolds a made-up vendor there (``uv sync``
into the copy's own ``.venv``: it resolves the workspace anew, from the package registry and uv's
cache, which ``scripts/setup.sh`` has warmed), and runs in
that copy what the suite runs: the new vendor's tests (tap, target and emulator, against the
emulator), ``tests/test_registry.py``, ``tests/test_meltano_plugins.py`` for the new plugins, the
README settings tables (``update_readme_settings.py --check``), ruff and mypy with the new packages,
and the generator's ``--check``. About 80 s on the 2-core machine (``scaffold`` marker:
``pytest -m "not scaffold"`` leaves it out; the test command runs it).

The other tests are quick: a planned vendor of ``vendors.json`` is completed rather than added, and
bad arguments are refused before anything is written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCAFFOLD = "scripts/dev/new_vendor.py"
NAME, SYSTEM = "acmecrm", "Acme CRM"


def copy_repository(dest: Path) -> Path:
    """The repository's files as they are now (tracked and new, not ignored) under ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")}
    # Not offline: `uv sync --locked` (scripts/setup.sh) caches the wheels but not every index page a
    # new resolution asks for, so an offline resolution fails on a fresh machine.
    return env


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, \
        f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.mark.scaffold
def test_a_scaffolded_vendor_is_wired_and_passes(tmp_path):
    if shutil.which("uv") is None:
        pytest.fail("uv is not on PATH: run bash scripts/setup.sh first")
    repo = copy_repository(tmp_path / "repo")
    run([sys.executable, SCAFFOLD, NAME, "--system", SYSTEM], repo)
    python = str(repo / ".venv" / "bin" / "python")

    # Every list names the vendor, and every file the scaffold wrote says what to replace.
    vendor = next(v for v in json.loads((repo / "vendors.json").read_text())["vendors"] if v["name"] == NAME)
    assert vendor["tap"] == f"tap-{NAME}" and vendor["emulator"] == NAME and vendor["secrets"] == ["api_key"]
    template = ROOT / "scripts" / "dev" / "vendor_template"
    for source in template.rglob("*"):
        relative = source.relative_to(template)
        if source.is_file() and relative.parts[0] != "_registry" and "__pycache__" not in relative.parts:
            written = repo / str(relative).replace("tmplvendor", NAME)
            assert f"TODO({NAME})" in "\n".join(written.read_text().splitlines()[:12]), written
            assert "tmplvendor" not in written.read_text().lower() and "TMPL_" not in written.read_text(), written
    for artifact in (f"tap-{NAME}/tap_{NAME}/catalog.json", f"target-{NAME}/target_{NAME}/entities.json",
                     f"sandbox/connector_sandbox/{NAME}/api_catalog.json"):
        assert f"TODO({NAME})" in json.loads((repo / artifact).read_text())["source"]

    # What the suite runs, in the copy, with the new vendor.
    proc = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/{NAME}", "tests/test_registry.py",
                "tests/test_meltano_plugins.py", "-k", f"not test_meltano_plugins or {NAME}"], repo)
    summary = proc.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert "failed" not in summary and "error" not in summary and passed >= 50, summary
    run([python, "scripts/dev/update_readme_settings.py", "--check", f"tap-{NAME}", f"target-{NAME}"], repo)
    code = [f"{NAME}-client", f"tap-{NAME}", f"target-{NAME}", f"sandbox/connector_sandbox/{NAME}", f"tests/{NAME}",
            f"scripts/generators/{NAME}.py"]
    run([str(repo / ".venv" / "bin" / "ruff"), "check", *code], repo)
    mypy = run([str(repo / ".venv" / "bin" / "mypy")], repo)
    assert f"{NAME}_client" in (repo / "pyproject.toml").read_text() and "Success" in mypy.stdout
    run([python, f"scripts/generators/{NAME}.py", "--check"], repo)
    # The emulator is what `connector-sandbox` runs.
    listed = run([str(repo / ".venv" / "bin" / "connector-sandbox"), "--help"], repo).stdout
    assert NAME in listed


def test_a_planned_vendor_is_completed_in_place(tmp_path):
    repo = copy_repository(tmp_path / "repo")
    # A vendor announced in the README before it is built: one line of vendors.json, as they are written.
    planned = {"name": "acme", "system": "Acme CRM (sales)", "status": "planned"}
    text = (repo / "vendors.json").read_text()
    end = text.rindex("}\n  ]")
    (repo / "vendors.json").write_text(text[:end + 1] + ",\n    " + json.dumps(planned) + text[end + 1:])
    before = json.loads((repo / "vendors.json").read_text())["vendors"]
    run([sys.executable, SCAFFOLD, planned["name"], "--no-sync"], repo)
    after = json.loads((repo / "vendors.json").read_text())["vendors"]
    assert [v["name"] for v in after] == [v["name"] for v in before]
    entry = next(v for v in after if v["name"] == planned["name"])
    assert entry["system"] == planned["system"] and entry["tap"] == f"tap-{planned['name']}"
    readme = (repo / "README.md").read_text()
    assert f"| {planned['system']} | [tap-{planned['name']}](tap-{planned['name']}/README.md) |" in readme
    project = yaml.safe_load((repo / "meltano.yml").read_text())
    assert f"target-{planned['name']}" in {p["name"] for p in project["plugins"]["loaders"]}
    # The registry's checks that need no install hold in the copy.
    run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(repo / "tests" / "test_registry.py"),
         "-k", "not console_script and not emulator"], repo)


@pytest.mark.parametrize(("args", "message"), [
    (["Acme", "--system", "Acme"], "NAME must be lower-case letters only"),
    (["sandbox", "--system", "Acme"], "NAME must be lower-case letters only"),
    (["connectwise", "--system", "Acme"], "connectwise is already a vendor of vendors.json"),
    (["acme", "--system", 'Acme "CRM"'], "--system must be a display name"),
    (["acme"], "--system is required"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, args, message):
    repo = copy_repository(tmp_path / "repo")
    before = {p: (repo / p).read_text() for p in ("vendors.json", "pyproject.toml", "meltano.yml", "README.md")}
    proc = subprocess.run([sys.executable, SCAFFOLD, *args, "--no-sync"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode != 0 and message in proc.stderr
    assert {p: (repo / p).read_text() for p in before} == before
    assert not (repo / "tap-acme").exists()
