"""Extension objects, created unbound and attached in :func:`portal.create_app`."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
