"""Staff accounts in the admin area: the admin's list, and each person's own page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from portal.extensions import db
from portal.models import Event, Role, RoomKind, User
from portal.services.accounts import user_by_email
from tests.conftest import csrf_token, filled_form, page, sign_in

NEW_ACCOUNT = {
    "email": " Pat.Host@Example.com ",
    "display_name": "Pat  Host",
    "role": "host",
    "time_zone": "Europe/Paris",
    "is_active": "y",
    "password": "a long enough password",
}


def account_values(client: FlaskClient, address: str) -> dict[str, str]:
    """The account form at ``address`` as a browser would send it unchanged."""
    return filled_form(page(client.get(address)), "main form.stacked-form")


def post_account(client: FlaskClient, address: str, **values: str) -> object:
    """Send the account form at ``address`` with its token and ``values``."""
    return client.post(
        address, data={"csrf_token": csrf_token(client, address), **values}
    )


def test_an_admin_creates_a_host_who_can_sign_in_and_has_both_rooms(
    admin_client: FlaskClient, client: FlaskClient
) -> None:
    response = post_account(admin_client, "/admin/accounts/new", **NEW_ACCOUNT)

    assert response.status_code == 303
    host = user_by_email("pat.host@example.com")
    assert host is not None
    assert (host.display_name, host.role, host.time_zone) == (
        "Pat Host",
        Role.HOST,
        "Europe/Paris",
    )
    rooms = db.session.scalars(
        sa.select(Event.room_kind).where(Event.owner_id == host.id)
    )
    assert set(rooms) == {RoomKind.MEETING_ROOM, RoomKind.SUPPORT_ROOM}
    listing = page(admin_client.get("/admin/accounts"))
    assert "pat.host@example.com" in [cell.get_text() for cell in listing.select("td")]

    admin_client.post("/sign-out", data={"csrf_token": csrf_token(client, "/admin/")})
    assert (
        sign_in(client, "pat.host@example.com", "a long enough password").status_code
        == 302
    )
    assert client.get("/admin/rooms").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"email": "not an email"}, "email", "@-sign"),
        ({"email": "admin@example.com"}, "email", "exists already"),
        ({"display_name": "   "}, "display_name", "Enter the name"),
        ({"display_name": "x" * 121}, "display_name", "120"),
        ({"password": ""}, "password", "first password"),
        ({"password": "short"}, "password", "12"),
        (
            {"time_zone": "Mars/Olympus"},
            "time_zone",
            "Choose a time zone from the list.",
        ),
        ({"role": "owner"}, "role", "Not a valid choice"),
    ],
)
def test_a_bad_new_account_is_refused_next_to_the_field(
    admin_client: FlaskClient, change: dict[str, str], field: str, message: str
) -> None:
    before = db.session.scalar(sa.select(sa.func.count()).select_from(User))

    response = post_account(
        admin_client, "/admin/accounts/new", **{**NEW_ACCOUNT, **change}
    )

    assert response.status_code == 422
    error = page(response).select_one(f"#{field}-error")
    assert error is not None
    assert message in error.get_text()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == before


def test_an_admin_switches_an_account_off_and_it_is_signed_out(
    admin_client: FlaskClient,
    host_client: tuple[FlaskClient, User],
) -> None:
    other, host = host_client
    address = f"/admin/accounts/{host.id}"
    values = account_values(admin_client, address)
    values.pop("is_active")

    response = admin_client.post(address, data=values)

    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, host.id).is_active is False
    assert other.get("/admin/rooms").status_code == 302
    assert sign_in(other, host.email).status_code == 422


def test_an_admin_sets_a_new_password_and_the_old_one_stops_working(
    admin_client: FlaskClient, make_user: Callable[..., User], client: FlaskClient
) -> None:
    host = make_user(role=Role.HOST)
    address = f"/admin/accounts/{host.id}"
    values = account_values(admin_client, address)

    admin_client.post(address, data={**values, "password": "brand new password"})

    admin_client.post("/sign-out", data={"csrf_token": csrf_token(client, "/admin/")})
    assert sign_in(client, host.email).status_code == 422
    assert sign_in(client, host.email, "brand new password").status_code == 302


@pytest.mark.parametrize(
    ("change", "field"), [({"role": "host"}, "role"), ({"is_active": ""}, "is_active")]
)
def test_an_admin_cannot_take_away_their_own_admin_access(
    admin_client: FlaskClient, change: dict[str, str], field: str
) -> None:
    admin = user_by_email("admin@example.com")
    assert admin is not None
    address = f"/admin/accounts/{admin.id}"
    values = {**account_values(admin_client, address), **change}
    values = {name: value for name, value in values.items() if value != ""}

    response = admin_client.post(address, data=values)

    assert response.status_code == 422
    error = page(response).select_one(f"#{field}-error")
    assert error is not None
    assert "your own admin access" in error.get_text()
    db.session.expire_all()
    assert (admin.role, admin.is_active) == (Role.ADMIN, True)


def test_a_host_made_admin_and_back_keeps_their_rooms(
    admin_client: FlaskClient, make_user: Callable[..., User]
) -> None:
    host = make_user(role=Role.HOST)
    address = f"/admin/accounts/{host.id}"

    for role in ("admin", "host"):
        values = account_values(admin_client, address)
        assert (
            admin_client.post(address, data={**values, "role": role}).status_code == 303
        )

    db.session.expire_all()
    rooms = db.session.scalar(
        sa.select(sa.func.count()).where(Event.owner_id == host.id)
    )
    assert (db.session.get(User, host.id).role, rooms) == (Role.HOST, 2)


@pytest.mark.parametrize(
    "address", ["/admin/accounts", "/admin/accounts/new", "/admin/accounts/1"]
)
def test_hosts_may_not_open_the_accounts_pages(
    host_client: tuple[FlaskClient, User], address: str
) -> None:
    client, _ = host_client

    assert client.get(address).status_code == 403


def test_a_missing_account_is_not_found(admin_client: FlaskClient) -> None:
    assert admin_client.get("/admin/accounts/999999").status_code == 404


def test_anyone_signed_in_changes_their_own_name_and_time_zone(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    token = csrf_token(client, "/admin/account")

    response = client.post(
        "/admin/account/profile",
        data={
            "csrf_token": token,
            "display_name": "Dana H.",
            "time_zone": "Asia/Tokyo",
        },
    )

    assert response.status_code == 303
    db.session.expire_all()
    assert (host.display_name, host.time_zone) == ("Dana H.", "Asia/Tokyo")


def test_a_time_zone_saved_under_an_older_name_stays_on_the_profile(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    host.time_zone = "US/Pacific"
    db.session.commit()

    soup = page(client.get("/admin/account"))
    chosen = soup.select_one("#time_zone option[selected]")
    offered = [option["value"] for option in soup.select("#time_zone option")]
    response = client.post(
        "/admin/account/profile",
        data={
            "csrf_token": csrf_token(client, "/admin/account"),
            "display_name": "Dana H.",
            "time_zone": chosen["value"],
        },
    )

    assert chosen["value"] == "US/Pacific"
    assert "America/Atka" not in offered
    assert "America/Los_Angeles" in offered
    assert response.status_code == 303
    db.session.expire_all()
    assert host.time_zone == "US/Pacific"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"current_password": "wrong one", "new_password": "x" * 12},
            "current_password",
            "not your current password",
        ),
        (
            {"current_password": "correct horse battery", "new_password": "short"},
            "new_password",
            "12 to 200",
        ),
        (
            {
                "current_password": "correct horse battery",
                "new_password": "x" * 12,
                "confirm_password": "y" * 12,
            },
            "confirm_password",
            "differ",
        ),
    ],
)
def test_a_bad_password_change_says_why_and_keeps_the_password(
    host_client: tuple[FlaskClient, User],
    values: dict[str, str],
    field: str,
    message: str,
) -> None:
    client, host = host_client
    token = csrf_token(client, "/admin/account")
    data = {"confirm_password": values["new_password"], **values}

    response = client.post(
        "/admin/account/password",
        data={"csrf_token": token, **data},
    )

    assert response.status_code == 422
    error = page(response).select_one(f"#{field}-error")
    assert error is not None
    assert message in error.get_text()
    client.post("/sign-out", data={"csrf_token": token})
    assert sign_in(client, host.email).status_code == 302


def test_a_person_changes_their_own_password(
    host_client: tuple[FlaskClient, User],
) -> None:
    client, host = host_client
    token = csrf_token(client, "/admin/account")

    response = client.post(
        "/admin/account/password",
        data={
            "csrf_token": token,
            "current_password": "correct horse battery",
            "new_password": "a fresh passphrase",
            "confirm_password": "a fresh passphrase",
        },
    )

    assert response.status_code == 303
    client.post("/sign-out", data={"csrf_token": token})
    assert sign_in(client, host.email).status_code == 422
    assert sign_in(client, host.email, "a fresh passphrase").status_code == 302
