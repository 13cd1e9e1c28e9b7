"""The gunicorn entry point: ``gunicorn wsgi:app``."""

from gunicorn.errors import AppImportError

from portal import create_app
from portal.errors import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    # gunicorn prints an AppImportError as its message alone and stops ("App failed
    # to load"), instead of a traceback from every worker it boots.
    raise AppImportError(f"The portal cannot start: {error}") from None
