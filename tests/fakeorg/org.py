"""A Salesforce org in memory, answering the REST API through ``responses``.

It understands what the backend sends: the OAuth token request (client credentials
or JWT bearer), SOQL queries, describes, limits, record creates and updates, and
composite requests with references and all-or-none. Its answers have the shapes of
Salesforce's REST API documentation, and so do its refusals (INVALID_FIELD,
STRING_TOO_LONG, REQUIRED_FIELD_MISSING, FIELD_INTEGRITY_EXCEPTION, DUPLICATE_VALUE,
INVALID_SESSION_ID, PROCESSING_HALTED). Salesforce's own rules are kept: an unknown
campaign member status becomes the campaign's default, HasResponded follows the
status, a task's IsClosed follows TaskStatus. Every API request adds one to the
usage that the ``Sforce-Limit-Info`` header reports.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import responses

from fakeorg import soql
from fakeorg.schema import PREFIXES, describe_all

INSTANCE = "https://acme.my.salesforce.com"
Answer = tuple[int, Any]
_REFERENCE = re.compile(r"@\{(\w+)\.(\w+)\}")


class Refusal(Exception):
    """An error answer: HTTP status, errorCode and message."""

    def __init__(
        self, status: int, code: str, message: str, fields: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.answer = (
            status,
            [{"message": message, "errorCode": code, "fields": list(fields)}],
        )


class FakeOrg:
    """The records of one org and the API that reaches them."""

    def __init__(self, *, api_used: int = 1000, api_max: int = 15000) -> None:
        self.describes = describe_all()
        self.records: dict[str, dict[str, dict[str, Any]]] = {
            name: {} for name in self.describes
        }
        self.api_used = api_used
        self.api_max = api_max
        #: Every API request, as "METHOD path" (composite subrequests not apart).
        self.calls: list[str] = []
        self.token_requests: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        #: Answers to give instead of the next API requests: (status, body).
        self.faults: list[Answer] = []
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        for order, (label, closes) in enumerate(
            [
                ("Not Started", False),
                ("In Progress", False),
                ("Completed", True),
                ("Waiting on someone else", False),
                ("Deferred", False),
            ]
        ):
            self.add("TaskStatus", MasterLabel=label, IsClosed=closes, SortOrder=order)

    # Setting up and reading back.

    def install(self, mock: responses.RequestsMock) -> None:
        """Answer the token and REST requests ``mock`` intercepts."""
        mock.add_callback(
            responses.POST,
            re.compile(r"https://[\w.-]+\.salesforce\.com/services/oauth2/token"),
            callback=self._token,
        )
        for method in (responses.GET, responses.POST, responses.PATCH):
            mock.add_callback(
                method,
                re.compile(re.escape(INSTANCE) + r"/services/data/.*"),
                self._api,
            )

    def add(
        self, sobject: str, created_at: datetime | None = None, **fields: Any
    ) -> str:
        """Put a record in the org as it stands; return its id."""
        record_id = self._new_id(sobject)
        self.records[sobject][record_id] = {
            "Id": record_id,
            "CreatedDate": _stamp(created_at or self._now()),
            **fields,
        }
        return record_id

    def get(self, sobject: str, record_id: str) -> dict[str, Any]:
        """A record by id."""
        return self.records[sobject][record_id]

    def all(self, sobject: str, **wanted: Any) -> list[dict[str, Any]]:
        """Records of an object with these field values, oldest first."""
        return [
            record
            for record in self.records[sobject].values()
            if all(record.get(name) == value for name, value in wanted.items())
        ]

    def drop_field(self, sobject: str, name: str) -> None:
        """Remove a field from an object, as if the org never had it."""
        self.describes[sobject] = [
            spec for spec in self.describes[sobject] if spec["name"] != name
        ]

    def expire_tokens(self) -> None:
        """End every session, as Salesforce does after a timeout."""
        self.tokens.clear()

    # HTTP.

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {key: values[0] for key, values in parse_qs(request.body).items()}
        if form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = jwt.decode(form["assertion"], options={"verify_signature": False})
            form["claims"] = claims
        self.token_requests.append(form)
        token = f"00Dfake!token{len(self.token_requests)}"
        self.tokens.add(token)
        body = {
            "access_token": token,
            "instance_url": INSTANCE,
            "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": "1700000000000",
        }
        return 200, {}, json.dumps(body)

    def _api(self, request: Any) -> tuple[int, dict[str, str], str]:
        header = request.headers.get("Authorization", "")
        if header.removeprefix("Bearer ") not in self.tokens:
            body = [
                {
                    "message": "Session expired or invalid",
                    "errorCode": "INVALID_SESSION_ID",
                }
            ]
            return 401, {}, json.dumps(body)
        url = urlparse(request.url)
        tail = url.path.split("/", 4)[4]
        self.calls.append(f"{request.method} {tail}")
        self.api_used += 1
        headers = {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_max}"}
        if self.faults:
            status, body = self.faults.pop(0)
            return status, headers, json.dumps(body)
        payload = json.loads(request.body) if request.body else None
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        status, body = self._handle(request.method, tail, params, payload)
        return status, headers, json.dumps(body) if body is not None else ""

    def _handle(
        self, method: str, tail: str, params: dict[str, str], payload: Any
    ) -> Answer:
        try:
            parts = tail.strip("/").split("/")
            if parts == ["query"] and method == "GET":
                return 200, self._query(params["q"])
            if parts == ["limits"]:
                remaining = self.api_max - self.api_used
                return 200, {
                    "DailyApiRequests": {"Max": self.api_max, "Remaining": remaining}
                }
            if parts == ["composite"] and method == "POST":
                return 200, self._composite(payload)
            if parts[0] == "sobjects" and len(parts) == 3 and parts[2] == "describe":
                return 200, {
                    "name": parts[1],
                    "createable": True,
                    "updateable": True,
                    "feedEnabled": True,
                    "fields": self.describes[parts[1]],
                }
            if parts[0] == "sobjects" and len(parts) == 2 and method == "POST":
                record_id = self._create(parts[1], payload)
                return 201, {"id": record_id, "success": True, "errors": []}
            if parts[0] == "sobjects" and len(parts) == 3 and method == "PATCH":
                self._update(parts[1], parts[2], payload)
                return 204, None
        except Refusal as refusal:
            return refusal.answer
        raise AssertionError(f"The fake org does not know {method} {tail}")

    def _composite(self, payload: dict[str, Any]) -> dict[str, Any]:
        subrequests = payload["compositeRequest"]
        assert len(subrequests) <= 25, "at most 25 subrequests"
        queries = [item for item in subrequests if "/query" in item["url"]]
        assert len(queries) <= 5, "at most 5 queries in one composite request"
        all_or_none = payload.get("allOrNone", False)
        before = copy.deepcopy(self.records)
        results: dict[str, Any] = {}
        answers = []
        failed = False
        for item in subrequests:
            if failed and all_or_none:
                answers.append(_halted(item["referenceId"]))
                continue
            url = urlparse(_refer(item["url"], results))
            body = {
                key: _refer(value, results) if isinstance(value, str) else value
                for key, value in (item.get("body") or {}).items()
            }
            params = {key: values[0] for key, values in parse_qs(url.query).items()}
            tail = url.path.split("/", 4)[4]
            status, answer = self._handle(item["method"], tail, params, body or None)
            results[item["referenceId"]] = answer
            answers.append(
                {
                    "body": answer,
                    "httpHeaders": {},
                    "httpStatusCode": status,
                    "referenceId": item["referenceId"],
                }
            )
            failed = failed or status >= 400
        if failed and all_or_none:
            self.records = before
            answers = [
                answer
                if answer["httpStatusCode"] >= 400
                else _halted(answer["referenceId"])
                for answer in answers
            ]
        return {"compositeResponse": answers}

    # Salesforce's rules.

    def _query(self, text: str) -> dict[str, Any]:
        statement = soql.parse(text)
        known = {spec["name"] for spec in self.describes[statement.sobject]}
        for name in statement.fields + statement.order:
            if name not in known:
                raise Refusal(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{statement.sobject}'.",
                )
        rows = [
            record
            for record in self.records[statement.sobject].values()
            if all(soql.matches(record, c, self._lookup) for c in statement.conditions)
        ]
        for name in reversed(statement.order):
            rows.sort(key=lambda record: str(record.get(name, "")))
        rows = rows[: statement.limit] if statement.limit is not None else rows
        records = [
            {
                "attributes": {
                    "type": statement.sobject,
                    "url": f"/sobjects/{statement.sobject}/{row['Id']}",
                },
                **{name: row.get(name) for name in statement.fields},
            }
            for row in rows
        ]
        return {"totalSize": len(records), "done": True, "records": records}

    def _lookup(self, record: dict[str, Any], name: str) -> Any:
        if "." not in name:
            return record.get(name)
        relation, field = name.split(".", 1)
        parent_id = record.get(f"{relation}Id")
        parent = self.records.get(relation, {}).get(parent_id or "")
        return parent.get(field) if parent else None

    def _check(self, sobject: str, values: dict[str, Any], *, creating: bool) -> None:
        specs = {spec["name"]: spec for spec in self.describes[sobject]}
        for name, value in values.items():
            spec = specs.get(name)
            allowed = spec and (spec["createable"] if creating else spec["updateable"])
            if not allowed:
                raise Refusal(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {sobject}",
                    (name,),
                )
            length = spec["length"] if spec["type"] != "reference" else 18
            if isinstance(value, str) and length and len(value) > length:
                raise Refusal(
                    400,
                    "STRING_TOO_LONG",
                    f"{spec['label']}: data value too large: {value[:20]} "
                    f"(max length={length})",
                    (name,),
                )

    def _create(self, sobject: str, values: dict[str, Any]) -> str:
        self._check(sobject, values, creating=True)
        if sobject == "Lead":
            for name in ("LastName", "Company"):
                if not values.get(name):
                    raise Refusal(
                        400,
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{name}]",
                        (name,),
                    )
            values = {"IsConverted": False, **values}
        if sobject == "Task":
            self._check_task(values)
        if sobject == "CampaignMember":
            person = {
                "LeadId": values.get("LeadId"),
                "ContactId": values.get("ContactId"),
            }
            for name, person_id in person.items():
                if person_id and self.all(
                    "CampaignMember",
                    CampaignId=values["CampaignId"],
                    **{name: person_id},
                ):
                    raise Refusal(400, "DUPLICATE_VALUE", "Already a campaign member.")
            values = {"HasResponded": False, "FirstRespondedDate": None, **values}
            values["Status"] = self._member_status(
                values["CampaignId"], values.get("Status")
            )
        record_id = self._new_id(sobject)
        record = {"Id": record_id, "CreatedDate": _stamp(self._now()), **values}
        self.records[sobject][record_id] = record
        self._derive(sobject, record)
        return record_id

    def _update(self, sobject: str, record_id: str, values: dict[str, Any]) -> None:
        record = self.records[sobject].get(record_id)
        if record is None:
            raise Refusal(404, "NOT_FOUND", "The requested resource does not exist")
        self._check(sobject, values, creating=False)
        if sobject == "CampaignMember" and "Status" in values:
            values = {
                **values,
                "Status": self._member_status(record["CampaignId"], values["Status"]),
            }
        if sobject == "Task":
            self._check_task({**record, **values})
        record.update(values)
        self._derive(sobject, record)

    def _check_task(self, values: dict[str, Any]) -> None:
        who = str(values.get("WhoId") or "")
        if who.startswith(PREFIXES["Lead"]) and values.get("WhatId"):
            raise Refusal(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: id value of incorrect type; a task about a lead "
                "cannot be related to anything else",
                ("WhatId",),
            )

    def _member_status(self, campaign_id: str, wanted: str | None) -> str | None:
        statuses = self.all("CampaignMemberStatus", CampaignId=campaign_id)
        if wanted and any(row["Label"] == wanted for row in statuses):
            return wanted
        default = next((row["Label"] for row in statuses if row["IsDefault"]), None)
        return default or wanted

    def _derive(self, sobject: str, record: dict[str, Any]) -> None:
        """The read-only fields Salesforce sets from the others."""
        if sobject == "Task":
            statuses = self.all("TaskStatus", MasterLabel=record.get("Status"))
            record["IsClosed"] = bool(statuses and statuses[0]["IsClosed"])
            if record["IsClosed"]:
                record.setdefault("CompletedDateTime", _stamp(self._now()))
            else:
                record["CompletedDateTime"] = None
        if sobject == "CampaignMember":
            statuses = self.all(
                "CampaignMemberStatus",
                CampaignId=record["CampaignId"],
                Label=record["Status"],
            )
            responded = bool(statuses and statuses[0]["HasResponded"])
            if responded and not record.get("FirstRespondedDate"):
                record["FirstRespondedDate"] = datetime.now(UTC).date().isoformat()
            record["HasResponded"] = responded

    def _new_id(self, sobject: str) -> str:
        return f"{PREFIXES[sobject]}{next(self._ids):012d}AAA"

    def _now(self) -> datetime:
        """Now, a microsecond later at each call: records made in turn sort in turn."""
        return datetime.now(UTC).replace(microsecond=0) + next(self._clock) * _TICK


_TICK = datetime.resolution * 1000


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _refer(text: str, results: dict[str, Any]) -> str:
    """A composite subrequest's text with ``@{ref.field}`` replaced by the value."""
    return _REFERENCE.sub(lambda found: str(results[found[1]][found[2]]), text)


def _halted(reference: str) -> dict[str, Any]:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another operation "
                "in the same transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }
