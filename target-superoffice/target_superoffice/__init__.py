"""target-superoffice: publish records to SuperOffice CRM Online."""
