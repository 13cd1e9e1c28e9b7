"""The portal's public addresses, absolute, as they are handed out."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from portal.models import Event, Registrant


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute address on the portal, based on the PUBLIC_URL setting.

    Works with or without a request, so that the command line and emails print the
    same addresses the pages do.
    """
    adapter = current_app.url_map.bind("portal.invalid")
    path = adapter.build(endpoint, values)
    return str(current_app.config["PUBLIC_URL"]) + path


@dataclass(frozen=True, slots=True)
class EventAddresses:
    """The three public addresses of a session (a room has only ``join``)."""

    join: str
    register: str | None
    embed: str | None


def event_addresses(event: Event) -> EventAddresses:
    """A session's direct join, hosted registration and embeddable form addresses."""
    if event.is_room:
        return EventAddresses(
            join=public_url("public.room_join", key=event.key),
            register=None,
            embed=None,
        )
    return EventAddresses(
        join=public_url("public.join", key=event.key),
        register=public_url("public.register", key=event.key),
        embed=public_url("embed.register", key=event.key),
    )


def personal_join_url(registrant: Registrant) -> str:
    """The registrant's own join link: recognises them without a form."""
    return public_url("public.join", key=registrant.event.key, t=registrant.token)


def calendar_url(registrant: Registrant) -> str:
    """The address of the registrant's calendar file."""
    return public_url(
        "public.calendar", key=registrant.event.key, token=registrant.token
    )


def embed_snippet(address: str, title: str) -> str:
    """The ``<iframe>`` a landing page pastes in to show the embeddable form, and the
    script that sizes it to the form's height (``static/embed.js`` posts it).

    The script takes heights only from the portal's origin and only for the frame
    that sent them; without it (scripts blocked), the frame keeps its min-height.
    """
    return (
        f'<iframe src="{html.escape(address, quote=True)}" '
        f'title="{html.escape(f"Register for {title}", quote=True)}" '
        'style="width:100%;min-height:760px;border:0" loading="lazy"></iframe>\n'
        f"<script>{frame_sizer(address)}</script>"
    )


def frame_sizer(address: str) -> str:
    """The snippet's script: the frame of ``address``'s origin takes the height sent."""
    parts = urlsplit(address)
    # A JavaScript string that no "</script>" inside can end early.
    origin = json.dumps(f"{parts.scheme}://{parts.netloc}").replace("<", "\\u003c")
    # One line, in plain old JavaScript, because it is pasted into any page.
    return (
        'addEventListener("message",function(e){var h=e.data&&e.data.portalFrameHeight;'
        f'if(e.origin!=={origin}||typeof h!=="number")return;'
        'document.querySelectorAll("iframe").forEach(function(f){'
        'if(f.contentWindow===e.source){f.style.minHeight="0";f.style.height=h+"px"}})})'
    )
