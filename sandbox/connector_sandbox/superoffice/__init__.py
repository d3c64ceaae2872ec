"""SuperOffice CRM Online (REST WebAPI v1) emulator: see :mod:`.emulator`."""

from .emulator import (
                       DEFAULT_CLIENT_ID,
                       DEFAULT_CLIENT_SECRET,
                       DEFAULT_CLUSTER,
                       DEFAULT_ENVIRONMENT,
                       DEFAULT_TENANT,
                       SuperOfficeSandbox,
)

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "DEFAULT_CLUSTER", "DEFAULT_ENVIRONMENT", "DEFAULT_TENANT",
           "SuperOfficeSandbox"]
