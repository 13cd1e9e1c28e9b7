"""The admin pages fit a phone: wide tables scroll in their own box."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask.testing import FlaskClient

from portal.models import Event, Role, User
from tests.conftest import page
from tests.test_sessions_admin import register, weekly_series


def test_every_admin_table_scrolls_in_its_own_box_and_no_page_styles_inline(
    admin_client: FlaskClient,
    make_user: Callable[..., User],
    make_event: Callable[..., Event],
) -> None:
    host = make_user(role=Role.HOST)
    event = make_event(host, starts_at=datetime(2027, 10, 19, 14, 0, tzinfo=UTC))
    register(event)
    series = weekly_series(host, count=2)
    addresses = [
        "/admin/",
        f"/admin/sessions/{event.id}",
        f"/admin/series/{series.id}/edit",
        "/admin/rooms",
        "/admin/fields",
        "/admin/fields/scheduled",
        f"/admin/sessions/{event.id}/fields",
        "/admin/actions",
        f"/admin/sessions/{event.id}/actions",
        f"/admin/sessions/{event.id}/registrants",
        "/admin/queue",
        "/admin/crm/contacts",
        "/admin/accounts",
    ]

    tables = 0
    for address in addresses:
        soup = page(admin_client.get(address))
        for table in soup.select("main table.data-table"):
            tables += 1
            assert table.find_parent(class_="table-scroll") is not None, (
                f"a table on {address} makes the whole page scroll sideways"
            )
        assert soup.select("[style]") == [], f"inline style on {address}"
    assert tables >= 8
