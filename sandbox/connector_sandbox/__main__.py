"""``python -m connector_sandbox VENDOR ...``: the same as the ``connector-sandbox`` command (:mod:`.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
