"""Calendar files (.ics) for a registrant's session."""

from __future__ import annotations

import icalendar

from portal.models import Registrant, utcnow
from portal.services.schedule import local_schedule


def registrant_calendar(registrant: Registrant, join_url: str) -> bytes | None:
    """An iCalendar file for the registrant's session, or None if it has no schedule.

    Times are written in UTC (``...Z``), which every calendar program converts to its
    user's zone correctly on either side of a daylight-saving change.
    """
    event = registrant.event
    schedule = local_schedule(event)
    if schedule is None:
        return None

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//portal//webinar registration//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")

    entry = icalendar.Event()
    entry.add("uid", f"{registrant.token}@portal")
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    entry.add("description", _description(event.description, join_url, registrant))
    entry.add("location", join_url)
    entry.add("url", join_url)
    calendar.add_component(entry)
    return bytes(calendar.to_ical())


def _description(about: str, join_url: str, registrant: Registrant) -> str:
    lines = [f"Join: {join_url}"]
    event = registrant.event
    if event.dial_in_number:
        dial_in = f"Dial in: {event.dial_in_number}"
        if event.participant_code:
            dial_in += f", participant code {event.participant_code}"
        lines.append(dial_in)
    if about:
        lines += ["", about]
    return "\n".join(lines)
