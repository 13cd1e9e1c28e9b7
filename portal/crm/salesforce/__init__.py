"""The Salesforce backend: the CRM interface on an org's REST API."""

from portal.crm.salesforce.backend import SalesforceCrm
from portal.crm.salesforce.client import SalesforceSettings

__all__ = ["SalesforceCrm", "SalesforceSettings"]
