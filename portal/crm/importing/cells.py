"""Reading a line of an imported file: each cell as the value its column stores.

A value too long for its text column is cut at a word boundary and the cut noted; a
value that cannot be read (an address, a date, a number, a yes or no) refuses its row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from portal.crm.fields import fit
from portal.crm.importing.columns import ImportColumn, ValueType
from portal.services.email_addresses import InvalidEmail, parse_email


class RowRefused(ValueError):
    """A row cannot be imported, for the reason given (written for a person)."""


@dataclass(frozen=True, slots=True)
class LineNote:
    """Something to tell about one line of the file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class Row:
    """One line's values, read and checked, ready to be stored."""

    line: int
    record: dict[str, Any] = field(default_factory=dict)
    account: dict[str, Any] = field(default_factory=dict)
    notes: list[LineNote] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_row(
    line: int,
    cells: list[str],
    header: list[str],
    positions: Mapping[ImportColumn, int],
) -> Row:
    """The row's values converted and checked, with the problems found."""
    row = Row(line)
    shape = f"the line has {len(cells)} cells where the header has {len(header)}"
    if len(cells) < len(header):
        row.problems.append(shape)
    elif any(cell.strip() for cell in cells[len(header) :]):
        row.problems.append(f"{shape} (is a value with a comma not in quotes?)")

    for column, position in positions.items():
        text = cells[position].strip() if position < len(cells) else ""
        if not text:
            if column.is_required:
                row.problems.append(f"{column.label} is missing")
            continue
        try:
            value = _read_cell(column, text, row)
        except RowRefused as problem:
            row.problems.append(str(problem))
            continue
        (row.account if column.is_account else row.record)[column.attribute] = value

    return row


def _read_cell(column: ImportColumn, text: str, row: Row) -> Any:
    """``text`` as the column stores it; raise :class:`RowRefused`."""
    if column.type is ValueType.TEXT:
        value, was_cut = fit(text, column.length) if column.length else (text, False)
        if was_cut:
            message = f"{column.label} cut to {column.length} characters"
            row.notes.append(LineNote(row.line, message))
        return value
    if column.type is ValueType.EMAIL:
        return _read_email(column, text)
    if column.type is ValueType.DATETIME:
        return read_moment(column.label, text)
    if column.type is ValueType.DATE:
        return read_moment(column.label, text).date()
    if column.type is ValueType.INTEGER:
        return _read_integer(column.label, text)
    return _read_boolean(column.label, text)


def _read_email(column: ImportColumn, text: str) -> str:
    """A checked address, lower-cased as the CRM stores addresses."""
    try:
        address = parse_email(text).key
    except InvalidEmail as error:
        raise RowRefused(f"{column.label} “{text}”: {error}") from error
    if len(address) > column.length:
        raise RowRefused(f"{column.label} is longer than {column.length} characters")
    return address


#: The largest value of an integer column (PostgreSQL's ``integer``).
_LARGEST_INTEGER = 2**31 - 1
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_US_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
)


def read_moment(label: str, text: str) -> datetime:
    """A date and time as Salesforce exports write them, in UTC.

    ISO ``2024-03-05`` or ``2024-03-05 14:30[:00]`` (also with ``T``, fractions of a
    second, an offset or ``Z``), and US ``3/5/2024``, ``3/5/2024 2:30 PM`` or
    ``3/5/2024 14:30``. Day-first dates are not recognised: ``05/03/2024`` is May 3.
    A time without an offset is taken as UTC. Raise :class:`RowRefused`.
    """
    moment: datetime | None = None
    if _ISO_DATE.match(text):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
    else:
        cleaned = " ".join(text.replace(",", " ").split()).upper()
        for pattern in _US_FORMATS:
            try:
                moment = datetime.strptime(cleaned, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        raise RowRefused(
            f"{label} “{text}” is not a date such as 2024-03-05, 2024-03-05 14:30, "
            "3/5/2024 or 3/5/2024 2:30 PM"
        )
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _read_integer(label: str, text: str) -> int:
    digits = text.replace(",", "")
    if not digits.isdecimal():
        raise RowRefused(f"{label} “{text}” is not a whole number")
    if int(digits) > _LARGEST_INTEGER:
        raise RowRefused(f"{label} “{text}” is larger than the CRM can hold")
    return int(digits)


def _read_boolean(label: str, text: str) -> bool:
    answer = text.casefold()
    if answer in ("1", "true", "yes"):
        return True
    if answer in ("0", "false", "no"):
        return False
    raise RowRefused(f"{label} “{text}” is not 1 or 0, true or false, yes or no")
