"""CRM backends behind one interface, chosen by the ``CRM`` setting."""

from __future__ import annotations

from flask import current_app

from portal.crm.base import Crm


def get_crm() -> Crm:
    """The CRM this installation feeds, made once per application."""
    crm = current_app.extensions.get("portal.crm")
    if crm is None:
        crm = _make_crm(str(current_app.config["CRM"]))
        current_app.extensions["portal.crm"] = crm
    return crm


def _make_crm(kind: str) -> Crm:
    if kind == "builtin":
        from portal.crm.builtin import BuiltinCrm

        return BuiltinCrm()
    raise ValueError(f"Unknown CRM {kind!r}; the choices are: builtin.")
