"""Prefill from the address: ``?sf_LeadSource=Newsletter`` fills Lead Source."""

from __future__ import annotations

from collections.abc import Iterable

from portal.models.field import param_key_for

PREFIX = "sf_"


def read_prefill(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The ``sf_*`` parameters of a query string, keyed like field definitions.

    The parameter's name is matched without regard to case (``sf_leadsource`` works as
    well as ``sf_LeadSource``); when a parameter is repeated the first value wins.
    Parameters that name no field are kept here and simply never looked up.
    """
    prefill: dict[str, str] = {}
    for name, value in query:
        if name[: len(PREFIX)].lower() != PREFIX or len(name) == len(PREFIX):
            continue
        prefill.setdefault(param_key_for(name[len(PREFIX) :]), value)
    return prefill
