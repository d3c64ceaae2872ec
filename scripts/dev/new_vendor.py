"""Scaffold a new vendor: client, tap, target, emulator, tests and generator, wired and passing.

Usage: python scripts/dev/new_vendor.py NAME --system "Acme CRM" [--root DIR] [--class-name AcmeCRM] [--no-sync]

Writes, from ``scripts/dev/vendor_template/`` (the made-up API of one entity, ``/items``, with an API
key sent as a bearer token, pages, a cursor, a quota and JSON writes):

* ``NAME-client/`` (a ``BaseConnection`` and its ``CONNECTION_SETTINGS``), ``tap-NAME/`` (one stream
  from a generated ``catalog.json``, custom streams, ``start_date``), ``target-NAME/`` (a
  ``PublishTarget`` and its dialect: POST, PUT, PATCH, DELETE and UPSERT by look-up), each with its
  ``pyproject.toml`` and README;
* ``sandbox/connector_sandbox/NAME/`` (the emulator, on the kit) and its entry point in
  ``sandbox/pyproject.toml``;
* ``tests/NAME/{tap,target,emulator}/`` (tests against the emulator) and
  ``scripts/generators/NAME.py`` (which it runs: it writes the tap's, the target's and the
  emulator's catalogs);

and adds the vendor to every list of the suite: ``vendors.json`` (completing a ``planned`` entry of
that name), the root ``pyproject.toml`` (workspace members, dependencies, sources, ruff and mypy),
``meltano.yml`` (the tap and the target as custom plugins, and their sandbox config) and the
README's plugin table (rebuilt from ``vendors.json``). Then, unless ``--no-sync``, ``uv sync`` and
``scripts/dev/update_readme_settings.py`` for the two plugins' settings tables.

Every generated file starts with a ``TODO(NAME)`` naming the vendor doc to read; what is generated
runs and its tests pass as it is. ``grep -rn "TODO(NAME)"`` lists what to replace.
"""

from __future__ import annotations

import argparse
import json
import keyword
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "vendor_template"
FRAGMENTS = TEMPLATE / "_registry"
REPO = HERE.parent.parent
RESERVED = {"core", "sandbox", "tests", "scripts", "bench", "connector", "samples"}
FIRST_PORT = 8080  # a vendor's emulator listens on FIRST_PORT + its position in vendors.json (8081, 8082...)


class ScaffoldError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"new_vendor: {message}")


# -- names -----------------------------------------------------------------------------------------
def class_prefix(system: str, name: str) -> str:
    """``Acme CRM (sales)`` -> ``AcmeCRM``: the system's words without the parenthesis."""
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"\(.*?\)", "", system))
    prefix = "".join(w[0].upper() + w[1:] for w in words)
    if not prefix.isidentifier() or not prefix[0].isalpha():
        prefix = name.capitalize()
    return prefix


def substitutions(name: str, system: str, prefix: str, port: int, doc: str) -> list[tuple[str, str]]:
    return [("TMPLVENDOR", name.upper()), ("TmplVendor", prefix), ("tmplvendor", name),
            ("TMPL_SYSTEM", system), ("TMPL_PORT", str(port)), ("TMPL_DOC", doc)]


def vendor_doc(root: Path, name: str) -> str:
    """The vendor's contract in the shared folder beside the repository (its file name only), else
    where it belongs."""
    folder = root.parent / "shared" / "vendors"
    found = sorted(p.name for p in folder.glob(f"*{name}*.md")) if folder.is_dir() else []
    return f"shared/vendors/{found[0]}" if found else f"shared/vendors/{name}.md"


def substitute(text: str, subs: list[tuple[str, str]]) -> str:
    for token, value in subs:
        text = text.replace(token, value)
    return text


# -- checks ----------------------------------------------------------------------------------------
def check_arguments(root: Path, name: str, system: str, vendors: list[dict]) -> None:
    if not re.fullmatch(r"[a-z]+", name) or keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"NAME must be lower-case letters only (it names packages and modules), and not "
                            f"{', '.join(sorted(RESERVED))} or a Python keyword; got {name!r}")
    if not system.strip() or any(c in system for c in "\"\\\n|`"):
        raise ScaffoldError(f"--system must be a display name without quotes, backslashes, | or `; got {system!r}")
    known = {v["name"]: v for v in vendors}
    if known.get(name, {}).get("tap"):
        raise ScaffoldError(f"{name} is already a vendor of vendors.json with its plugins")
    taken = [p for p in (f"{name}-client", f"tap-{name}", f"target-{name}", f"tests/{name}",
                         f"sandbox/connector_sandbox/{name}", f"scripts/generators/{name}.py")
             if (root / p).exists()]
    if taken:
        raise ScaffoldError(f"{', '.join(taken)} already exist{'s' if len(taken) == 1 else ''} in {root}")


# -- the files -------------------------------------------------------------------------------------
def copy_template(root: Path, subs: list[tuple[str, str]]) -> list[Path]:
    written = []
    for source in sorted(TEMPLATE.rglob("*")):
        relative = source.relative_to(TEMPLATE)
        if source.is_dir() or relative.parts[0] == FRAGMENTS.name or "__pycache__" in relative.parts:
            continue
        target = root / substitute(str(relative), subs)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(substitute(source.read_text(encoding="utf-8"), subs), encoding="utf-8")
        shutil.copymode(source, target)
        written.append(target)
    # The tests are packages (``from tests.NAME.tap.helpers import ...``): so is tests/ itself.
    package = root / "tests" / "__init__.py"
    if not package.exists():
        package.write_text('"""The suite\'s tests: a package, so tests import their helpers as tests.<vendor>...."""\n')
        written.append(package)
    return written


def fragment(name: str, subs: list[tuple[str, str]]) -> str:
    return substitute((FRAGMENTS / name).read_text(encoding="utf-8"), subs)


# -- the lists -------------------------------------------------------------------------------------
def registry_entry(name: str, system: str) -> dict:
    return {"name": name, "system": system, "client": f"{name}-client", "tap": f"tap-{name}",
            "target": f"target-{name}", "emulator": name, "secrets": ["api_key"],
            "status": "scaffolded (scripts/dev/new_vendor.py)"}


def entry_text(entry: dict) -> str:
    d = json.dumps
    return (f'{{"name": {d(entry["name"])}, "system": {d(entry["system"])},\n'
            f'     "client": {d(entry["client"])}, "tap": {d(entry["tap"])}, "target": {d(entry["target"])},\n'
            f'     "emulator": {d(entry["emulator"])}, "secrets": {d(entry["secrets"])},\n'
            f'     "status": {d(entry["status"])}}}')


def _entry_span(text: str, name: str) -> re.Match:
    match = re.search(r'\{"name":\s*' + re.escape(json.dumps(name)) + r"[^{}]*\}", text)
    if match is None:
        raise ScaffoldError(f"vendors.json: cannot find the entry of {name} in its text")
    return match


def update_vendors(path: Path, entry: dict) -> list[dict]:
    """Complete the planned entry of the vendor, or add the entry after the last built vendor."""
    text = path.read_text()
    vendors = json.loads(text)["vendors"]
    names = [v["name"] for v in vendors]
    if entry["name"] in names:
        span = _entry_span(text, entry["name"])
    else:
        built = [v["name"] for v in vendors if v.get("tap")]
        last = _entry_span(text, built[-1]) if built else None
        if last is None:
            raise ScaffoldError("vendors.json has no built vendor to add the new one after")
        text = text[:last.end()] + ",\n    " + entry_text(entry) + text[last.end():]
        path.write_text(text)
        return json.loads(text)["vendors"]
    text = text[:span.start()] + entry_text(entry) + text[span.end():]
    path.write_text(text)
    updated = json.loads(text)["vendors"]
    if [v["name"] for v in updated] != names:
        raise ScaffoldError("vendors.json: the update changed the list of vendors; check it by hand")
    return updated


def update_readme_table(path: Path, vendors: list[dict]) -> None:
    """The plugin table, rebuilt from the registry (tests/test_registry.py checks it the same way)."""
    text = path.read_text()
    header = "| system | tap | target | status |"
    start = text.index(header)
    end = text.index("\n\n", start)
    rows = [header, "|---|---|---|---|"]
    for v in vendors:
        if v.get("tap"):
            cells = [f"[{v[p]}]({v[p]}/README.md)" for p in ("tap", "target")]
        else:
            cells = [f"tap-{v['name']}", f"target-{v['name']}"]
        rows.append("| " + " | ".join([v["system"], *cells, v["status"]]) + " |")
    path.write_text(text[:start] + "\n".join(rows) + text[end:])


def _add_to_list(text: str, pattern: str, items: list[str], *, where: str) -> str:
    """Add ``items`` (quoted) to the TOML array that ``pattern`` (group 1: its inside) finds."""
    match = re.search(pattern, text, re.S)
    if match is None:
        raise ScaffoldError(f"pyproject.toml: cannot find {where}")
    inside = match.group(1)
    present = re.findall(r'"([^"]+)"', inside)
    new = [i for i in items if i not in present]
    if not new:
        return text
    lines = [line for line in inside.split("\n") if line.strip()]
    if len(lines) > 1 and all(len(re.findall(r'"[^"]*"', line)) == 1 for line in lines):  # one item a line
        indent = re.match(r"\s*", lines[0]).group(0)
        lines += [f'{indent}"{i}",' for i in new]
        body = "\n" + "\n".join(sorted(lines, key=str.strip)) + "\n"
    else:  # after the last item, in the array's own layout
        last = inside.rindex('"') + 1
        comma = inside[last:].startswith(",")
        added = "".join(f' "{i}",' for i in new) if comma else "".join(f', "{i}"' for i in new)
        body = inside[:last + comma] + added + inside[last + comma:]
    return text[:match.start(1)] + body + text[match.end(1):]


def update_root_pyproject(path: Path, name: str) -> None:
    text = path.read_text()
    packages = [f"{name}-client", f"tap-{name}", f"target-{name}"]
    modules = [p.replace("-", "_") for p in packages]
    text = _add_to_list(text, r"\[project\].*?\ndependencies = \[(.*?)\]", packages, where="[project] dependencies")
    text = _add_to_list(text, r"\[tool\.uv\.workspace\]\s*members = \[(.*?)\]", packages,
                        where="[tool.uv.workspace] members")
    sources = re.search(r"\[tool\.uv\.sources\]\n((?:[^\[\n][^\n]*\n)+)", text)
    if sources is None:
        raise ScaffoldError("pyproject.toml: cannot find [tool.uv.sources]")
    added = "".join(f"{p} = {{ workspace = true }}\n" for p in packages if f"\n{p} =" not in "\n" + sources.group(1))
    text = text[:sources.end(1)] + added + text[sources.end(1):]
    text = _add_to_list(text, r"known-first-party = \[(.*?)\]", modules, where="ruff's known-first-party")
    text = _add_to_list(text, r"\[tool\.mypy\].*?\nfiles = \[(.*?)\]", [f"{p}/{m}" for p, m in zip(packages, modules)],
                        where="mypy's files")
    text = _add_to_list(text, r"\[tool\.mypy\].*?\nmypy_path = \[(.*?)\]", packages, where="mypy's mypy_path")
    path.write_text(text)


def update_sandbox_pyproject(path: Path, name: str, prefix: str) -> None:
    text = path.read_text()
    header = '[project.entry-points."connector_sandbox.emulators"]\n'
    start = text.index(header) + len(header)
    end = text.find("\n\n", start)
    end = len(text) if end < 0 else end
    line = f'{name} = "connector_sandbox.{name}.cli:{prefix}Emulator"'
    path.write_text(text[:end].rstrip("\n") + "\n" + line + text[end:])


def update_meltano(path: Path, subs: list[tuple[str, str]]) -> None:
    """The tap and the target as custom plugins, after the others of their kind; their sandbox config."""
    lines = path.read_text().split("\n")

    def find(line: str, start: int = 0) -> int:
        try:
            return lines.index(line, start)
        except ValueError:
            raise ScaffoldError(f"meltano.yml: no line {line.strip()!r} where expected") from None

    def insert(at: int, name: str) -> None:
        lines[at:at] = fragment(name, subs).rstrip("\n").split("\n")

    def back_over_comments(at: int) -> int:
        """Comments (and blank lines) that open the next entry stay with it."""
        while at > 0 and (not lines[at - 1].strip() or lines[at - 1].startswith("#")):
            at -= 1
        return at

    environment = find("- name: sandbox")
    env_loaders = find("      loaders:", environment)
    insert(env_loaders, "meltano_sandbox_extractor.yml")
    env_loaders = find("      loaders:", environment)
    end = next(i for i in range(env_loaders + 1, len(lines)) if not lines[i].startswith("      "))
    insert(back_over_comments(end), "meltano_sandbox_loader.yml")
    plugins = find("plugins:")
    insert(back_over_comments(find("  loaders:", plugins)), "meltano_extractor.yml")
    jobs = next((i for i in range(plugins, len(lines)) if lines[i].startswith("jobs:")), len(lines))
    insert(back_over_comments(jobs), "meltano_loader.yml")
    path.write_text("\n".join(lines))


def check_meltano(path: Path, name: str) -> None:
    try:
        import yaml
    except ImportError:  # pragma: no cover - the workspace has it
        return
    project = yaml.safe_load(path.read_text())
    names = {p["name"] for kind in ("extractors", "loaders") for p in project["plugins"][kind]}
    (sandbox,) = [e for e in project["environments"] if e["name"] == "sandbox"]
    configured = {p["name"] for kind in ("extractors", "loaders") for p in sandbox["config"]["plugins"][kind]}
    wanted = {f"tap-{name}", f"target-{name}"}
    if not (wanted <= names and wanted <= configured):
        raise ScaffoldError("meltano.yml: the new plugins did not land where expected; check it by hand")


# -- after writing ---------------------------------------------------------------------------------
def generated_code(root: Path, name: str) -> list[Path]:
    """The Python the scaffold wrote (what ruff and mypy check)."""
    return [root / p for p in (f"{name}-client", f"tap-{name}", f"target-{name}", f"sandbox/connector_sandbox/{name}",
                               f"tests/{name}", f"scripts/generators/{name}.py")]


def run(command: list[str], root: Path) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=root, check=True)


def find_uv() -> str | None:
    """The machine's uv (the version scripts/setup.sh pins), not one a virtualenv carries: meltano
    brings its own uv into .venv/bin, whose cache does not serve an offline sync."""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not (Path(folder).parent / "pyvenv.cfg").exists():
            found = shutil.which("uv", path=folder)
            if found:
                return found
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the vendor's word, lower-case letters (e.g. superoffice)")
    parser.add_argument("--system", help="display name, e.g. \"SuperOffice (CRM)\" (default: a planned "
                                         "vendors.json entry's)")
    parser.add_argument("--root", type=Path, default=REPO, help="the repository to write in (default: this one)")
    parser.add_argument("--class-name", help="class name prefix (default: from --system, e.g. SuperOffice)")
    parser.add_argument("--no-sync", action="store_true",
                        help="skip `uv sync` and the README settings tables (run both before the tests)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    vendors_path = root / "vendors.json"
    vendors = json.loads(vendors_path.read_text())["vendors"]
    planned = next((v for v in vendors if v["name"] == args.name), {})
    system = args.system or planned.get("system")
    if not system:
        raise ScaffoldError(f"--system is required: {args.name} is not a planned vendor of vendors.json")
    check_arguments(root, args.name, system, vendors)
    prefix = args.class_name or class_prefix(system, args.name)
    if not prefix.isidentifier():
        raise ScaffoldError(f"--class-name must be a Python identifier; got {prefix!r}")

    vendors = update_vendors(vendors_path, registry_entry(args.name, system))
    port = FIRST_PORT + 1 + [v["name"] for v in vendors].index(args.name)
    subs = substitutions(args.name, system, prefix, port, vendor_doc(root, args.name))
    written = copy_template(root, subs)
    run([sys.executable, f"scripts/generators/{args.name}.py"], root)
    update_readme_table(root / "README.md", vendors)
    update_root_pyproject(root / "pyproject.toml", args.name)
    update_sandbox_pyproject(root / "sandbox" / "pyproject.toml", args.name, prefix)
    update_meltano(root / "meltano.yml", subs)
    check_meltano(root / "meltano.yml", args.name)
    print(f"wrote {len(written)} files; updated vendors.json, pyproject.toml, sandbox/pyproject.toml, "
          "meltano.yml, README.md")
    if not args.no_sync:
        uv = find_uv()
        if uv is None:
            raise ScaffoldError("uv is not on PATH (bash scripts/setup.sh installs it); or pass --no-sync")
        run([uv, "sync"], root)  # a new resolution: the package registry, through uv's cache
        bin_dir = root / ".venv" / "bin"
        # The template's imports are sorted for its own name; sorted again for the vendor's.
        run([str(bin_dir / "ruff"), "check", "--quiet", "--fix", "--select", "I",
             *[str(p) for p in generated_code(root, args.name)]], root)
        run([str(bin_dir / "python"), "scripts/dev/update_readme_settings.py",
             f"tap-{args.name}", f"target-{args.name}"], root)
    print(f"next: uv run --no-sync pytest tests/{args.name} tests/test_registry.py -q; then "
          f"grep -rn 'TODO({args.name})' . --include='*.py' --include='*.md' --include='*.toml' "
          "--include='*.yml' and replace the scaffold's made-up API with the vendor's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
