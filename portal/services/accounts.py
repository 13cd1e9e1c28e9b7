"""Staff accounts: admins and hosts."""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Role, User
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.events import ensure_personal_rooms

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12


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
