"""Just enough SOQL for the fake org: the statements the backend sends.

``SELECT a, b FROM Object [WHERE c AND c ...] [ORDER BY a, b] [LIMIT n]``, where each
condition is ``Field = value``, ``Field LIKE '%text%'`` (``Field`` may be one
relationship hop, ``Opportunity.AccountId``), and a value a quoted string (with
SOQL's backslash escapes), ``true``, ``false``, ``null`` or a number. Text compares
without case, as SOQL does for fields that are not unique case-sensitive ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_STATEMENT = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<object>\w+)"
    r"(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>[\w, ]+?))?"
    r"(?: LIMIT (?P<limit>\d+))?$",
    re.DOTALL,
)
_CONDITION = re.compile(
    r"\s*(?P<field>[\w.]+)\s*(?P<op>=|LIKE)\s*"
    r"(?P<value>'(?:[^'\\]|\\.)*'|true|false|null|-?\d+)\s*"
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


class SoqlError(Exception):
    """A statement the org refuses: (errorCode, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Condition:
    """``field op value``."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Statement:
    """A parsed SELECT."""

    fields: tuple[str, ...]
    sobject: str
    conditions: tuple[Condition, ...]
    order: tuple[str, ...]
    limit: int | None


def parse(text: str) -> Statement:
    """The statement, or SoqlError(MALFORMED_QUERY)."""
    found = _STATEMENT.match(text.strip())
    if found is None:
        raise SoqlError("MALFORMED_QUERY", f"unexpected token in: {text[:80]}")
    conditions: list[Condition] = []
    where = found["where"] or ""
    position = 0
    while position < len(where):
        part = _CONDITION.match(where, position)
        if part is None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {where[position:]}")
        token = part["value"]
        value = token[1:-1] if part["op"] == "LIKE" else _value(token)
        conditions.append(Condition(part["field"], part["op"], value))
        position = part.end()
        if where.startswith("AND ", position):
            position += 4
        elif position < len(where):
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {where[position:]}")
    return Statement(
        fields=tuple(name.strip() for name in found["fields"].split(",")),
        sobject=found["object"],
        conditions=tuple(conditions),
        order=tuple(
            name.strip() for name in (found["order"] or "").split(",") if name.strip()
        ),
        limit=int(found["limit"]) if found["limit"] else None,
    )


def _value(token: str) -> Any:
    if token.startswith("'"):
        inner = token[1:-1]
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), inner)
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    return int(token)


def _like(raw: str) -> str:
    """A LIKE pattern (still escaped as written) as a regular expression."""
    pattern = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            pattern.append(re.escape(_ESCAPES.get(following, following)))
            index += 2
            continue
        pattern.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
        index += 1
    return "".join(pattern)


Lookup = Callable[[Mapping[str, Any], str], Any]


def matches(record: Mapping[str, Any], condition: Condition, lookup: Lookup) -> bool:
    """Whether the record meets the condition (``lookup`` follows a dotted field)."""
    actual = lookup(record, condition.field)
    wanted = condition.value
    if condition.op == "LIKE":
        return bool(re.fullmatch(_like(wanted), str(actual or ""), re.IGNORECASE))
    if isinstance(wanted, str) and isinstance(actual, str):
        return actual.lower() == wanted.lower()
    return bool(actual == wanted)
