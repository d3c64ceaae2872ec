"""A Meltano run of its own for a test: its own system database and its own `.meltano` run files.

Meltano writes each plugin's config and logging files to `<sys dir>/run/<plugin>/`, and every
`meltano install` (and every auto-install) empties those folders. Tests that shared the project's
`.meltano/run/` could lose a target's config file between Meltano writing it and the target reading
it. Each test gets a system directory in its tmp path (MELTANO_SYS_DIR_ROOT) whose plugin folders
(the installed virtualenvs) link to the project's, so nothing is reinstalled and no run file is
shared; MELTANO_DATABASE_URI keeps its state apart.
"""

from __future__ import annotations

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_DIRS = ("extractors", "loaders", "mappers", "utilities", "transformers", "orchestrators", "files")


def own_meltano(tmp: Path) -> dict[str, str]:
    """Environment variables giving a Meltano process its own system dir and database under ``tmp``."""
    sys_dir = tmp / ".meltano"
    sys_dir.mkdir(parents=True, exist_ok=True)
    for name in PLUGIN_DIRS:
        shared = ROOT / ".meltano" / name
        link = sys_dir / name
        if not link.exists():
            shared.mkdir(parents=True, exist_ok=True)
            link.symlink_to(shared, target_is_directory=True)
    return {"MELTANO_SYS_DIR_ROOT": str(sys_dir), "MELTANO_DATABASE_URI": f"sqlite:///{tmp}/meltano.db"}


def free_port() -> int:
    """A loopback port nothing listens on now (for a demo script's emulator)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
