"""Staff accounts: the admins and hosts who run the portal."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, UTCDateTime, enum_column, utcnow


class Role(enum.Enum):
    """What a staff account may do."""

    ADMIN = "admin"
    HOST = "host"


class User(Base):
    """A member of staff who signs in: an admin or a host (a session's leader)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored lower-cased; the sign-in address and the unique key.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    #: A hash from werkzeug.security; never the password itself.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    #: IANA name; ``{!now}`` and ``{!today}`` are given in it.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_admin(self) -> bool:
        """Whether this account manages the whole site."""
        return self.role is Role.ADMIN

    # What Flask-Login asks of a signed-in user.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session cookie."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
