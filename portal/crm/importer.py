"""Importing a Salesforce report export (CSV) into the built-in CRM.

The whole file is read before anything is written. Each row is then stored in a
savepoint of its own, so that a refused row leaves nothing behind while the rows around
it are kept, and the import is committed once, at the end. A value too long for its
column is cut at a word boundary and the cut reported; the row is still taken.
"""

from __future__ import annotations

import csv
import enum
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.exc import DataError, IntegrityError

from portal.crm.fields import CONTACT_FIELDS, LEAD_FIELDS, CrmField, FieldType, fit
from portal.errors import PortalError
from portal.extensions import db
from portal.models import Account, Contact, CrmUser, Lead, utcnow
from portal.services.email_addresses import InvalidEmail, parse_email

logger = logging.getLogger(__name__)

Record = Contact | Lead | CrmUser | Account


class ImportKind(enum.Enum):
    """What the rows of an imported file are."""

    CONTACTS = "contacts"
    LEADS = "leads"
    USERS = "users"
    ACCOUNTS = "accounts"

    def count(self, number: int) -> str:
        """``number`` records of this kind in words: "1 contact", "3 contacts"."""
        return f"{number} {self.value if number != 1 else self.value[:-1]}"


class ImportFileError(PortalError):
    """The file as a whole cannot be imported (not UTF-8, no header, no key column)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
class ImportResult:
    """What an import did: rows taken, rows refused (and why), values cut."""

    kind: ImportKind
    taken: int = 0
    refused: list[LineNote] = field(default_factory=list)
    #: Values cut to fit their column, in rows that were taken.
    notes: list[LineNote] = field(default_factory=list)
    #: Blank lines and the lines of the report's footer.
    skipped: int = 0
    #: The file's headers that name no column, as written.
    ignored_columns: list[str] = field(default_factory=list)


class ValueType(enum.Enum):
    """How a cell is read."""

    TEXT = "text"
    EMAIL = "email"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class ImportColumn:
    """A column a file may have: its header, where it is stored, how it is read."""

    label: str
    attribute: str
    type: ValueType = ValueType.TEXT
    #: The longest text the column holds; 0 when the value is not text.
    length: int = 0
    #: Other headers Salesforce's reports use for it.
    aliases: tuple[str, ...] = ()
    is_required: bool = False
    #: Written to a contact's account (found by name, or created) not the contact.
    is_account: bool = False


_VALUE_TYPES = {
    FieldType.EMAIL: ValueType.EMAIL,
    FieldType.DATE: ValueType.DATE,
    FieldType.DATETIME: ValueType.DATETIME,
    FieldType.INTEGER: ValueType.INTEGER,
}


def _room(model: type[Record], attribute: str, fallback: int) -> int:
    """The length of the model's text column; ``fallback`` for unbounded text."""
    column_type = model.__table__.c[attribute].type
    if isinstance(column_type, sa.String) and column_type.length:
        return column_type.length
    return fallback


def _column(
    model: type[Record],
    label: str,
    attribute: str,
    *aliases: str,
    value_type: ValueType = ValueType.TEXT,
    unbounded_length: int = 0,
    **options: Any,
) -> ImportColumn:
    """A column of ``model``; text longer than its column (or the limit) is cut."""
    length = 0
    if value_type in (ValueType.TEXT, ValueType.EMAIL):
        length = _room(model, attribute, unbounded_length)
    return ImportColumn(label, attribute, value_type, length, aliases, **options)


def _from_catalogue(
    model: type[Record],
    catalogue: Mapping[str, CrmField],
    aliases: Mapping[str, tuple[str, ...]],
    required: Iterable[str],
) -> list[ImportColumn]:
    """A column for every catalogue field the model stores, under its label."""
    return [
        _column(
            model,
            crm_field.label,
            crm_field.column,
            *aliases.get(crm_field.column, ()),
            value_type=_VALUE_TYPES.get(crm_field.type, ValueType.TEXT),
            unbounded_length=crm_field.length,
            is_required=crm_field.column in required,
        )
        for crm_field in catalogue.values()
        if crm_field.column in model.__table__.c
    ]


_CREATED = ImportColumn("Created Date", "created_at", ValueType.DATETIME)

_COLUMNS: dict[ImportKind, tuple[ImportColumn, ...]] = {
    ImportKind.CONTACTS: (
        *_from_catalogue(
            Contact,
            CONTACT_FIELDS,
            {
                "mobile_phone": ("Mobile",),
                "mailing_state": ("Mailing State",),
                "mailing_postal_code": ("Mailing Zip", "Mailing Postal Code"),
            },
            required=["last_name"],
        ),
        _column(Account, "Account Name", "name", "Account", is_account=True),
        _column(Account, "Industry", "industry", is_account=True),
        _column(Account, "Website", "website", is_account=True),
        _CREATED,
    ),
    ImportKind.LEADS: (
        *_from_catalogue(
            Lead,
            LEAD_FIELDS,
            {
                "company": ("Company / Account",),
                "status": ("Status",),
                "mobile_phone": ("Mobile",),
                "state": ("State", "Province"),
                "postal_code": ("Zip", "Zip Code", "Postal Code"),
            },
            required=["last_name", "company"],
        ),
        ImportColumn("Converted", "is_converted", ValueType.BOOLEAN),
        _CREATED,
    ),
    ImportKind.USERS: (
        _column(CrmUser, "First Name", "first_name"),
        _column(CrmUser, "Last Name", "last_name", is_required=True),
        _column(
            CrmUser, "Email", "email", value_type=ValueType.EMAIL, is_required=True
        ),
        ImportColumn("Active", "is_active", ValueType.BOOLEAN),
        _CREATED,
    ),
    ImportKind.ACCOUNTS: (
        _column(Account, "Account Name", "name", is_required=True),
        _column(Account, "Industry", "industry"),
        _column(Account, "Website", "website"),
        _CREATED,
    ),
}

_MODELS: dict[ImportKind, type[Record]] = {
    ImportKind.CONTACTS: Contact,
    ImportKind.LEADS: Lead,
    ImportKind.USERS: CrmUser,
    ImportKind.ACCOUNTS: Account,
}

#: The lines a Salesforce report export ends with (after the org's name, too).
_FOOTER = re.compile(
    r"grand totals? \(\d+ records?\)|confidential information - do not distribute"
    r"|copyright (\(c\)|©) \d{4}|generated by:",
    re.IGNORECASE,
)


def import_columns(kind: ImportKind) -> tuple[ImportColumn, ...]:
    """The columns a file of ``kind`` may have."""
    return _COLUMNS[kind]


def header_key(header: str) -> str:
    """A header as compared: without case or extra spaces; "A / B" is "A/B"."""
    words = " ".join(header.replace("\ufeff", "").casefold().split())
    return re.sub(r" ?/ ?", "/", words)


def import_records(
    stream: TextIO, kind: ImportKind, source: str = "the file"
) -> ImportResult:
    """Import a Salesforce report export read from ``stream`` and commit.

    Raise :class:`ImportFileError`, having written nothing, when the file as a whole
    cannot be read.
    """
    importer = _Importer(kind, _read_lines(stream))
    try:
        _begin_transaction()
        result = importer.run()
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()

    logger.info(
        "Imported %s from %s into the built-in CRM (refused: %d, values cut: %d)",
        kind.count(result.taken),
        source,
        len(result.refused),
        len(result.notes),
    )
    return result


def _begin_transaction() -> None:
    """Open the transaction that the rows' savepoints nest in.

    pysqlite opens a transaction only before a write, so on SQLite the first SAVEPOINT
    would open it instead, and releasing that savepoint would commit each row alone.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    sqlite_connection = connection.connection.driver_connection
    if sqlite_connection is not None and not sqlite_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def _read_lines(stream: TextIO) -> list[tuple[int, list[str]]]:
    """Every record of the file with the number of the line it starts on."""
    reader = csv.reader(stream)
    lines = []
    first_line = 1
    try:
        for cells in reader:
            lines.append((first_line, cells))
            first_line = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise ImportFileError(
            "The file is not UTF-8 text (it may have been saved as Windows-1252 or "
            "Latin-1); export it again, or save it as “CSV UTF-8”."
        ) from error
    except csv.Error as error:
        raise ImportFileError(
            f"Line {first_line} is not valid CSV: {error}."
        ) from error
    return lines


@dataclass(slots=True)
class _Row:
    """One line's values, read and checked, ready to be stored."""

    line: int
    record: dict[str, Any] = field(default_factory=dict)
    account: dict[str, Any] = field(default_factory=dict)
    notes: list[LineNote] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class _Importer:
    """One import: the file's header mapped to columns, then every row stored."""

    def __init__(self, kind: ImportKind, lines: list[tuple[int, list[str]]]) -> None:
        self.kind = kind
        self.result = ImportResult(kind)
        # Rows without a Created Date all get this moment, and matching, which picks
        # the oldest record, then goes by id: the order of the file.
        self.imported_at = utcnow()
        self.accounts: dict[str, Account] = {}
        self.has_footer_started = False

        while lines and not any(cell.strip() for cell in lines[0][1]):
            lines = lines[1:]
        if not lines:
            raise ImportFileError("The file is empty: it has no header line.")
        self.header = lines[0][1]
        self.rows = lines[1:]
        self.positions = self._map_header()

    def _map_header(self) -> dict[ImportColumn, int]:
        """The cell each known column is in; other headers are noted as ignored."""
        by_header = {
            header_key(header): column
            for column in _COLUMNS[self.kind]
            for header in (column.label, *column.aliases)
        }
        positions: dict[ImportColumn, int] = {}
        for position, header in enumerate(self.header):
            column = by_header.get(header_key(header))
            if column is None or column in positions:
                if header.strip():
                    self.result.ignored_columns.append(header.strip())
                continue
            positions[column] = position

        missing = [
            column.label
            for column in _COLUMNS[self.kind]
            if column.is_required and column not in positions
        ]
        if missing:
            found = ", ".join(cell.strip() for cell in self.header if cell.strip())
            raise ImportFileError(
                f"The file has no {' or '.join(missing)} column, which an import of "
                f"{self.kind.value} needs. Its columns are: {found}."
            )
        return positions

    def run(self) -> ImportResult:
        """Read and store every row, each in a savepoint of its own."""
        for line, cells in self.rows:
            if self._is_blank_or_footer([cell.strip() for cell in cells]):
                self.result.skipped += 1
            else:
                self._import_row(self._read_row(line, cells))
        return self.result

    def _is_blank_or_footer(self, values: list[str]) -> bool:
        """Whether a line holds nothing to import: blank, or the report's footer.

        Salesforce ends a report export with lines of one cell (Grand Totals, the
        confidentiality notice, the copyright, "Generated By", the organisation's
        name). A full line with an empty first cell is still a row (a contact may have
        no first name) unless no column the import reads has a value in it.
        """
        filled = [value for value in values if value]
        if not filled:
            return True
        if len(filled) == 1 and (self.has_footer_started or _FOOTER.match(filled[0])):
            self.has_footer_started = True
            return True
        if len(values) < len(self.header) and (len(values) == 1 or not values[0]):
            return True
        return not values[0] and not any(
            position < len(values) and values[position]
            for position in self.positions.values()
        )

    def _read_row(self, line: int, cells: list[str]) -> _Row:
        """The row's values converted and checked, with the problems found."""
        row = _Row(line)
        shape = (
            f"the line has {len(cells)} cells where the header has {len(self.header)}"
        )
        if len(cells) < len(self.header):
            row.problems.append(shape)
        elif any(cell.strip() for cell in cells[len(self.header) :]):
            row.problems.append(f"{shape} (is a value with a comma not in quotes?)")

        for column, position in self.positions.items():
            text = cells[position].strip() if position < len(cells) else ""
            if not text:
                if column.is_required:
                    row.problems.append(f"{column.label} is missing")
                continue
            try:
                value = self._convert(column, text, row)
            except RowRefused as problem:
                row.problems.append(str(problem))
                continue
            (row.account if column.is_account else row.record)[column.attribute] = value

        row.record.setdefault("created_at", self.imported_at)
        return row

    def _convert(self, column: ImportColumn, text: str, row: _Row) -> Any:
        """``text`` as the column stores it; raise :class:`RowRefused`."""
        if column.type is ValueType.TEXT:
            value, was_cut = (
                fit(text, column.length) if column.length else (text, False)
            )
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

    def _import_row(self, row: _Row) -> None:
        """Store one row in a savepoint of its own, or record why it was refused."""
        if row.problems:
            self.result.refused.append(LineNote(row.line, "; ".join(row.problems)))
            return

        try:
            with db.session.begin_nested():
                new_account = self._store(row)
        except RowRefused as refusal:
            self.result.refused.append(LineNote(row.line, str(refusal)))
            return
        except (IntegrityError, DataError):
            logger.exception("The database refused line %d of a CRM import", row.line)
            message = "the database did not accept the row"
            self.result.refused.append(LineNote(row.line, message))
            return

        # Remembered only now: a refused row's new account is rolled back with it.
        if new_account is not None:
            self.accounts[new_account.name] = new_account
        self.result.taken += 1
        self.result.notes.extend(row.notes)

    def _store(self, row: _Row) -> Account | None:
        """Add the row's record; the account created for it, if one was."""
        if self.kind is ImportKind.CONTACTS:
            return self._store_contact(row)

        if self.kind is ImportKind.ACCOUNTS:
            name = row.record["name"]
            if self._find_account(name) is not None:
                raise RowRefused(f"an account named “{name}” already exists")
        elif self.kind is ImportKind.USERS:
            email = row.record["email"]
            if db.session.scalar(sa.select(CrmUser.id).where(CrmUser.email == email)):
                raise RowRefused(f"a user with the email {email} already exists")
        db.session.add(_MODELS[self.kind](**row.record))
        return None

    def _store_contact(self, row: _Row) -> Account | None:
        """Add a contact, with its account found by exact name or else created."""
        contact = Contact(**row.record)
        new_account = None
        name = row.account.get("name")
        if name:
            account = self._find_account(name)
            if account is None:
                account = new_account = Account(
                    **row.account, created_at=self.imported_at
                )
            contact.account = account
        db.session.add(contact)
        return new_account

    def _find_account(self, name: str) -> Account | None:
        """The oldest account of exactly this name, or ``None``."""
        if name in self.accounts:
            return self.accounts[name]
        account = db.session.scalars(
            sa.select(Account)
            .where(Account.name == name)
            .order_by(Account.created_at, Account.id)
            .limit(1)
        ).first()
        if account is not None:
            self.accounts[name] = account
        return account


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
