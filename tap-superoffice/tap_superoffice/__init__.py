"""tap-superoffice: a Singer tap for SuperOffice CRM Online."""
