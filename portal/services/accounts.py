"""Staff accounts: admins and hosts."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Role, User
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.events import ensure_personal_rooms
from portal.services.schedule import is_time_zone

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
#: The length of ``User.display_name``.
DISPLAY_NAME_LENGTH = 120


def user_by_email(email: str) -> User | None:
    """The staff account with this email, compared without case."""
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str,
    *,
    role: Role,
    display_name: str,
    password: str | None = None,
    time_zone: str = "UTC",
) -> User:
    """Create a staff account; a host also gets both personal rooms."""
    try:
        address = parse_email(email)
    except InvalidEmail as error:
        raise ValidationFailed(str(error), field="email") from error
    if user_by_email(address.key) is not None:
        raise ValidationFailed(f"An account for {address.key} exists already.", "email")

    user = User(
        email=address.key,
        display_name=display_name,
        role=role,
        time_zone=time_zone,
    )
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    if role is Role.HOST:
        ensure_personal_rooms(user)
    logger.info("Created %s account %s", role.value, user.email)
    return user


def set_password(user: User, password: str) -> None:
    """Store a hash of ``password``; refuse one too short to be safe."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", "password"
        )
    user.password_hash = generate_password_hash(password)


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is the account's password."""
    return user.password_hash is not None and check_password_hash(
        user.password_hash, password
    )


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None.

    A missing account costs the same hashing time as a wrong password, so that the
    answer's timing does not tell which emails have accounts.
    """
    user = user_by_email(email)
    if user is None or not user.is_active or user.password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password(user, password):
        logger.info("Failed sign-in for %s", user.email)
        return None
    logger.info("%s signed in", user.email)
    return user


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password anyone has")


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What an admin may change on a staff account."""

    display_name: str
    role: Role
    time_zone: str
    is_active: bool
    #: A new password, or "" to keep the one there is.
    password: str = ""


def list_accounts() -> list[User]:
    """Every staff account: admins first, then hosts, each by name."""
    return list(
        db.session.scalars(
            sa.select(User).order_by(User.role, User.display_name, User.email)
        )
    )


def add_account(email: str, changes: AccountChanges, *, actor: User) -> User:
    """Create a staff account from the admin area and commit it."""
    _check_time_zone(changes.time_zone)
    if not changes.password:
        raise ValidationFailed("Give the account a first password.", "password")
    user = create_user(
        email,
        role=changes.role,
        display_name=_display_name(changes.display_name),
        password=changes.password,
        time_zone=changes.time_zone,
    )
    user.is_active = changes.is_active
    db.session.commit()
    logger.info(
        "%s created the %s account %s", actor.email, user.role.value, user.email
    )
    return user


def update_account(user: User, changes: AccountChanges, *, actor: User) -> list[str]:
    """Change a staff account and commit; return the names of what changed.

    Nobody takes away their own admin role or switches off their own account, and
    the site always keeps one active admin, so that the admin area cannot be locked.
    """
    _check_time_zone(changes.time_zone)
    keeps_admin = changes.role is Role.ADMIN and changes.is_active
    if user.is_admin and user.is_active and not keeps_admin:
        if user.id == actor.id:
            field = "role" if changes.role is not Role.ADMIN else "is_active"
            raise ValidationFailed(
                "You cannot take away your own admin access; ask another admin.",
                field,
            )
        if _active_admin_count() <= 1:
            raise ValidationFailed("The site needs at least one active admin.", "role")

    wanted = {
        "display_name": _display_name(changes.display_name),
        "role": changes.role,
        "time_zone": changes.time_zone,
        "is_active": changes.is_active,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if changes.password:
        set_password(user, changes.password)
        changed.append("password")
    if not changed:
        return []
    if user.role is Role.HOST:
        ensure_personal_rooms(user)
    db.session.commit()
    logger.info(
        "%s changed the account %s: %s", actor.email, user.email, ", ".join(changed)
    )
    return changed


def change_own_password(user: User, current: str, new: str) -> None:
    """Set a new password for the signed-in account, which must prove the old one."""
    if not check_password(user, current):
        raise ValidationFailed("That is not your current password.", "current_password")
    set_password(user, new)
    db.session.commit()
    logger.info("%s changed their password", user.email)


def update_own_profile(user: User, display_name: str, time_zone: str) -> list[str]:
    """Change the signed-in account's name and time zone; return what changed."""
    _check_time_zone(time_zone)
    wanted = {"display_name": _display_name(display_name), "time_zone": time_zone}
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if changed:
        db.session.commit()
        logger.info("%s changed their profile: %s", user.email, ", ".join(changed))
    return changed


def _display_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise ValidationFailed("Enter the name shown for this account.", "display_name")
    if len(name) > DISPLAY_NAME_LENGTH:
        raise ValidationFailed(
            f"Keep the name to {DISPLAY_NAME_LENGTH} characters.", "display_name"
        )
    return name


def _check_time_zone(name: str) -> None:
    if not is_time_zone(name):
        raise ValidationFailed(f"{name} is not a time zone.", "time_zone")


def _active_admin_count() -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                User.role == Role.ADMIN, User.is_active.is_(True)
            )
        )
        or 0
    )
