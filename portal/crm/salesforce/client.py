"""The connection to a Salesforce org: OAuth sign-in, REST calls, API usage.

Sign-in is OAuth only, through simple-salesforce: the JWT bearer flow or the client
credentials flow (the SOAP username-and-password login is being retired). The token
is asked for on the first call; a call answered 401 renews it and is tried once
more. Every answer's ``Sforce-Limit-Info`` header (``api-usage=N/M``) is passed to
the usage callback, whatever the call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession
from simple_salesforce.login import SalesforceLogin

from portal.crm.salesforce.errors import error_from_exception

logger = logging.getLogger(__name__)

#: A composite request holds at most this many subrequests.
COMPOSITE_LIMIT = 25
#: ... and at most this many of them may be queries.
COMPOSITE_QUERY_LIMIT = 5


@dataclass(frozen=True, slots=True)
class SalesforceSettings:
    """How to reach and sign in to the org (the ``SALESFORCE_*`` settings)."""

    domain: str
    consumer_key: str
    username: str = ""
    private_key_file: str = ""
    consumer_secret: str = ""
    api_version: str = "62.0"
    timeout: int = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SalesforceSettings:
        """The settings of an application's configuration."""
        return cls(
            domain=str(config["SALESFORCE_DOMAIN"]),
            consumer_key=str(config["SALESFORCE_CONSUMER_KEY"]),
            username=str(config["SALESFORCE_USERNAME"]),
            private_key_file=str(config["SALESFORCE_PRIVATE_KEY_FILE"]),
            consumer_secret=str(config["SALESFORCE_CONSUMER_SECRET"]),
            api_version=str(config["SALESFORCE_API_VERSION"]),
            timeout=int(config["SALESFORCE_TIMEOUT"]),
        )

    @property
    def sign_in_flow(self) -> str:
        """The OAuth flow these settings sign in with."""
        return "JWT bearer" if self.private_key_file else "client credentials"


class _TimeoutSession(requests.Session):
    """A requests session that never waits longer than its timeout."""

    def __init__(self, timeout: int) -> None:
        super().__init__()
        self.timeout = timeout

    def request(  # type: ignore[override]
        self, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


UsageCallback = Callable[[int, int], None]


class SalesforceClient:
    """Calls to one org's REST API, signed in as the settings say."""

    def __init__(self, settings: SalesforceSettings, on_usage: UsageCallback) -> None:
        self.settings = settings
        self._on_usage = on_usage
        self._session = _TimeoutSession(settings.timeout)
        self._session.hooks["response"].append(self._note_usage)
        self._connection: Salesforce | None = None
        self._lock = threading.Lock()

    def data_url(self, tail: str) -> str:
        """The path of a REST resource, as composite subrequests name it."""
        return f"/services/data/v{self.settings.api_version}/{tail}"

    def query_url(self, soql: str) -> str:
        """The path of a SOQL query, for a composite subrequest."""
        return self.data_url(f"query?q={quote(soql, safe='')}")

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        payload: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one REST request (``path`` below ``/services/data/vNN.0/``).

        ``what`` names the request in error messages ("the composite request").
        """
        try:
            try:
                return self._send(method, path, payload, params)
            except SalesforceExpiredSession:
                logger.info("Salesforce session expired; signing in again")
                self._sign_in(renew=True)
                return self._send(method, path, payload, params)
        except Exception as error:
            raise error_from_exception(error, what) from error

    def query(self, soql: str, *, what: str) -> list[dict[str, Any]]:
        """The records a SOQL query finds (its first batch, up to 2,000)."""
        answer = self.call("GET", "query", what=what, params={"q": soql})
        return list((answer or {}).get("records", []))

    def composite(
        self, subrequests: Sequence[Mapping[str, Any]], *, all_or_none: bool, what: str
    ) -> list[dict[str, Any]]:
        """Send subrequests as one composite request: one API call."""
        if len(subrequests) > COMPOSITE_LIMIT:
            raise ValueError(f"A composite request holds at most {COMPOSITE_LIMIT}.")
        answer = self.call(
            "POST",
            "composite",
            what=what,
            payload={
                "allOrNone": all_or_none,
                "collateSubrequests": False,
                "compositeRequest": list(subrequests),
            },
        )
        return list((answer or {}).get("compositeResponse", []))

    def sign_in(self) -> str:
        """Sign in now (if not signed in yet); return the instance's host."""
        try:
            return str(self._sign_in(renew=False).sf_instance)
        except Exception as error:
            raise error_from_exception(error, "the sign-in") from error

    def _send(
        self,
        method: str,
        path: str,
        payload: Any,
        params: Mapping[str, str] | None,
    ) -> Any:
        connection = self._sign_in(renew=False)
        return connection.restful(
            path,
            params=dict(params) if params else None,
            method=method,
            json=payload,
        )

    def _sign_in(self, *, renew: bool) -> Salesforce:
        with self._lock:
            if self._connection is not None and not renew:
                return self._connection
            settings = self.settings
            if settings.private_key_file:
                token, instance = SalesforceLogin(
                    username=settings.username,
                    consumer_key=settings.consumer_key,
                    privatekey_file=settings.private_key_file,
                    domain=settings.domain,
                    sf_version=settings.api_version,
                    session=self._session,
                )
            else:
                token, instance = SalesforceLogin(
                    consumer_key=settings.consumer_key,
                    consumer_secret=settings.consumer_secret,
                    domain=settings.domain,
                    sf_version=settings.api_version,
                    session=self._session,
                )
            self._connection = Salesforce(
                session_id=token,
                instance_url=f"https://{instance}",
                version=settings.api_version,
                session=self._session,
                object_pairs_hook=dict,
            )
            logger.info(
                "Signed in to Salesforce at %s (%s)", instance, settings.sign_in_flow
            )
            return self._connection

    def _note_usage(self, response: requests.Response, **kwargs: Any) -> None:
        """Pass on the API usage an answer reports (``api-usage=N/M``)."""
        header = response.headers.get("Sforce-Limit-Info")
        if not header:
            return
        usage = Salesforce.parse_api_usage(header).get("api-usage")
        if usage is not None:
            self._on_usage(int(usage.used), int(usage.total))
