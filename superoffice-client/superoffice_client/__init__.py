"""SuperOffice CRM Online client shared by tap-superoffice and target-superoffice: environment,
OAuth, the tenant's API host (looked up, followed when it moves), the 10-a-second rule, errors."""

from superoffice_client.connection import (
    AUTH_HINT,
    CONNECTION_SETTINGS,
    ENVIRONMENTS,
    SuperOfficeConfigError,
    SuperOfficeConnection,
    TenantState,
    TenantUnavailable,
    error_message,
)

__all__ = ["AUTH_HINT", "CONNECTION_SETTINGS", "ENVIRONMENTS", "SuperOfficeConfigError", "SuperOfficeConnection",
           "TenantState", "TenantUnavailable", "error_message"]
