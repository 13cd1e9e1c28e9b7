"""CRM backends behind one interface, chosen by the ``CRM`` setting."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal.crm.base import Crm
from portal.extensions import db
from portal.models import FieldDefinition, RuleObject


def get_crm() -> Crm:
    """The CRM this installation feeds, made once per application."""
    crm = current_app.extensions.get("portal.crm")
    if crm is None:
        crm = _make_crm(current_app.config)
        current_app.extensions["portal.crm"] = crm
    return crm


def _make_crm(config: Any) -> Crm:
    kind = str(config["CRM"])
    if kind == "builtin":
        from portal.crm.builtin import BuiltinCrm

        return BuiltinCrm()
    if kind == "salesforce":
        from portal.crm.salesforce import SalesforceCrm, SalesforceSettings

        return SalesforceCrm(
            SalesforceSettings.from_config(config),
            mapped_fields=mapped_fields,
            cache_seconds=int(config["SALESFORCE_CACHE_SECONDS"]),
            influence_model_id=str(config["SALESFORCE_INFLUENCE_MODEL_ID"]),
        )
    raise ValueError(f"Unknown CRM {kind!r}; the choices are: builtin, salesforce.")


def mapped_fields(target: RuleObject) -> set[str]:
    """The CRM fields of contacts (or leads) that some form field writes to."""
    column = (
        FieldDefinition.contact_field
        if target is RuleObject.CONTACT
        else FieldDefinition.lead_field
    )
    return set(db.session.scalars(sa.select(column).distinct())) - {""}
