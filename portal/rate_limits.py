"""Rate limits per client on the public forms, and the client's address behind proxies.

Flask-Limiter counts the POSTs each client address sends to the public pages (hosted,
embedded and join forms share one budget) and to the sign-in page, and answers 429
once a limit is reached. The address is the one that connected, unless the portal is
told how many proxies stand in front of it (``TRUSTED_PROXIES``): then werkzeug's
ProxyFix takes the client from that many ``X-Forwarded-For`` entries, counted from
the right, so that a client cannot choose its own address by sending the header.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.errors import ConfigurationError

logger = logging.getLogger(__name__)

PUBLIC_FORMS_SCOPE = "public-forms"
SIGN_IN_SCOPE = "sign-in"


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from the configured
    number of proxies, and nobody else."""
    proxies = int(app.config["TRUSTED_PROXIES"])
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )


def init_rate_limits(
    app: Flask, *, public: list[Blueprint], sign_in: Blueprint
) -> Limiter:
    """Limit the POSTs of the ``public`` blueprints together, and the sign-in's."""
    for setting in ("RATELIMIT_PUBLIC_FORMS", "RATELIMIT_SIGN_IN"):
        limits = str(app.config[setting])
        try:
            parse_many(limits)
        except ValueError as error:
            raise ConfigurationError(
                f"{setting} must be limits such as "
                f"'20 per minute; 200 per hour', not {limits!r}."
            ) from error

    limiter = Limiter(
        key_func=get_remote_address,
        headers_enabled=True,
        # A storage that is down must not take the forms down with it: each process
        # counts in its own memory until the storage is back.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    for blueprint in public:
        limiter.shared_limit(
            _public_forms_limit,
            scope=PUBLIC_FORMS_SCOPE,
            methods=["POST"],
            on_breach=_log_breach,
        )(blueprint)
    limiter.shared_limit(
        _sign_in_limit,
        scope=SIGN_IN_SCOPE,
        methods=["POST"],
        on_breach=_log_breach,
    )(sign_in)
    return limiter


def _public_forms_limit() -> str:
    return str(current_app.config["RATELIMIT_PUBLIC_FORMS"])


def _sign_in_limit() -> str:
    return str(current_app.config["RATELIMIT_SIGN_IN"])


def _log_breach(limit: RequestLimit) -> None:
    logger.warning(
        "Rate limit %s reached by %s on %s",
        limit.limit,
        request.remote_addr,
        request.path,
    )
