"""Extension objects, created unbound and attached in :func:`portal.create_app`."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
#: Protects every staff form; public forms carry their own signed token instead.
csrf = CSRFProtect()
