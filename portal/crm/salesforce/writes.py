"""The writes of one activity, sent to Salesforce as composite requests.

While an activity is processed, the backend collects its creates and updates here
instead of sending each one. They go to Salesforce together when the activity is
done, as one composite request with ``allOrNone``: one API call, and either every
write of the activity is made or none is, so that a retry starts clean. A record
still to be created is named by a stand-in id (``new:1:``); a later write that
points at it uses the composite reference ``@{w0.id}``, and :meth:`resolve` turns
stand-ins into Salesforce's ids once the batch is sent.

More than 25 writes, or a write that quotes a new record's id inside a text, split
the batch into several composite requests, sent in order; all-or-none then holds
for each of them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from portal.crm.base import WriteBatch
from portal.crm.salesforce.client import COMPOSITE_LIMIT, SalesforceClient
from portal.crm.salesforce.errors import (
    PROCESSING_HALTED,
    error_from_answer,
    first_error,
)

logger = logging.getLogger(__name__)

_STAND_IN = re.compile(r"new:\d+:")


@dataclass(slots=True)
class PendingWrite:
    """One create (no ``record_id``) or update of a Salesforce record."""

    sobject: str
    body: dict[str, Any]
    record_id: str | None = None
    #: The stand-in id handed out for a record this write creates.
    stand_in: str | None = None
    #: What to send instead if Salesforce answers DUPLICATE_VALUE (the record
    #: exists already: a campaign member made meanwhile by someone else).
    on_duplicate: Callable[[], PendingWrite] | None = field(default=None, repr=False)

    def describe(self) -> str:
        """How error messages name the write."""
        verb = "the update of" if self.record_id else "the new"
        return f"{verb} {self.sobject}"


class SalesforceWriteBatch(WriteBatch):
    """Writes collected for one composite request (or a few, in order)."""

    def __init__(self, client: SalesforceClient) -> None:
        self.client = client
        self.pending: list[PendingWrite] = []
        self.ids: dict[str, str] = {}
        self._count = 0

    def stand_in(self) -> str:
        """A new stand-in id for a record still to be created."""
        self._count += 1
        return f"new:{self._count}:"

    def add(self, write: PendingWrite) -> None:
        """Collect a write to send with the others."""
        self.pending.append(write)

    def send(self) -> None:
        """Send every collected write; raise the first refusal as a CRM error."""
        chunk: list[PendingWrite] = []
        for write in self.pending:
            if len(chunk) == COMPOSITE_LIMIT or _quotes_new_ids(write, chunk):
                self._send_chunk(chunk)
                chunk = []
            chunk.append(write)
        if chunk:
            self._send_chunk(chunk)
        self.pending = []

    def resolve(self, value: Any) -> Any:
        """``value`` with each stand-in id replaced by the id Salesforce gave."""
        if isinstance(value, str):
            if value in self.ids:
                return self.ids[value]
            return _STAND_IN.sub(lambda found: self.ids.get(found[0], found[0]), value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    def _send_chunk(self, chunk: list[PendingWrite], *, is_retry: bool = False) -> None:
        references = {
            write.stand_in: f"w{index}"
            for index, write in enumerate(chunk)
            if write.stand_in and write.record_id is None
        }
        answers = self.client.composite(
            [
                self._subrequest(index, write, references)
                for index, write in enumerate(chunk)
            ],
            all_or_none=True,
            what="the activity's writes",
        )
        for index, (write, answer) in enumerate(zip(chunk, answers, strict=True)):
            status = int(answer.get("httpStatusCode", 500))
            if status < 300:
                continue
            code, _message = first_error(answer.get("body"))
            if code == PROCESSING_HALTED:
                continue
            if code == "DUPLICATE_VALUE" and write.on_duplicate and not is_retry:
                logger.info("%s exists already; updating it instead", write.sobject)
                # Nothing of this chunk was kept (all or none): send it again.
                replacement = write.on_duplicate()
                replacement.stand_in = write.stand_in
                chunk[index] = replacement
                self._send_chunk(chunk, is_retry=True)
                return
            raise error_from_answer(status, answer.get("body"), write.describe())
        for write, answer in zip(chunk, answers, strict=True):
            if write.stand_in is None:
                continue
            body = answer.get("body") or {}
            self.ids[write.stand_in] = str(body.get("id") or write.record_id)

    def _subrequest(
        self, index: int, write: PendingWrite, references: dict[str, str]
    ) -> dict[str, Any]:
        def refer(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            if value in references:
                return f"@{{{references[value]}.id}}"
            return self.resolve(value)

        tail = f"sobjects/{write.sobject}"
        if write.record_id is not None:
            tail += f"/{refer(write.record_id)}"
        return {
            "method": "PATCH" if write.record_id is not None else "POST",
            "url": self.client.data_url(tail),
            "referenceId": f"w{index}",
            "body": {name: refer(value) for name, value in write.body.items()},
        }


def _quotes_new_ids(write: PendingWrite, chunk: list[PendingWrite]) -> bool:
    """Whether ``write`` quotes, inside a longer text, a record ``chunk`` creates.

    A composite reference stands for a whole value, so such a text needs the real
    id, known only once the chunk has been sent.
    """
    created = {item.stand_in for item in chunk if item.stand_in}
    for value in write.body.values():
        if (
            isinstance(value, str)
            and value not in created
            and any(found in created for found in _STAND_IN.findall(value))
        ):
            return True
    return False
