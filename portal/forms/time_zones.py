"""The time zone picker that the session and account forms share."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField
from wtforms.fields import SelectChoice

from portal.services.schedule import canonical_time_zones, is_time_zone

#: The group of a zone saved under a name the picker no longer offers.
SAVED_EARLIER = "Saved earlier"


class TimeZoneField(SelectField):
    """A time zone chosen from the picker; its choices come from
    :func:`time_zone_choices` on each form instance."""

    def __init__(self, label: str = "Time zone", **kwargs: Any) -> None:
        message = "Choose a time zone from the list."
        kwargs.setdefault("choices", [])
        kwargs.setdefault("invalid_choice_message", message)
        kwargs.setdefault("invalid_value_message", message)
        super().__init__(label, **kwargs)


def time_zone_choices(saved: str | None = None) -> list[SelectChoice]:
    """UTC, then each region's zones in an ``<optgroup>``, named by their place.

    ``saved`` is the zone the record holds: when it is a name the picker does not
    offer (an alias such as ``US/Eastern``), it is offered too, so that the form
    shows it chosen and saving leaves it as it was.
    """
    choices = [SelectChoice("UTC", "UTC", optgroup="UTC")]
    for name in canonical_time_zones():
        region, _, place = name.partition("/")
        if place:
            label = place.replace("_", " ").replace("/", " / ")
            choices.append(SelectChoice(name, label, optgroup=region))
    offered = {choice.value for choice in choices}
    if saved and saved not in offered and is_time_zone(saved):
        choices.append(SelectChoice(saved, saved, optgroup=SAVED_EARLIER))
    return choices
