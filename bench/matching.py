"""Matching at scale: identification with a million people in the built-in CRM.

Half the records are contacts, half leads; one lead in ten shares its email with a
contact (a person who registered before they were qualified), so that identifying
them reads two records and applies the type rule. The portal's own
:func:`portal.services.matching.identify` is then timed for emails that exist and
emails that do not, in a random order, inside the application as a worker runs it.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.profiling import Profile, start_recording, summarise
from bench.servers import Database, portal_app
from bench.stats import percentile

CONTACT_COLUMNS = (
    *("first_name", "last_name", "email", "title", "department", "phone"),
    *("mobile_phone", "lead_source", "mailing_street", "mailing_city"),
    *("mailing_state", "mailing_postal_code", "mailing_country", "description"),
    "created_at",
)
LEAD_COLUMNS = (
    *("first_name", "last_name", "email", "company", "title", "industry"),
    *("phone", "mobile_phone", "lead_source", "status", "rating", "website"),
    *("street", "city", "state", "postal_code", "country", "description"),
    *("is_converted", "created_at"),
)
#: The issue's target for one identification.
TARGET_P99_MS = 2.0
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MatchingResult:
    """Load time, query plans and identification latencies on one database."""

    database: str
    records: int
    load_seconds: float
    lookups: int
    found: int
    p50_ms: float
    p99_ms: float
    existing_p99_ms: float
    missing_p99_ms: float
    plans: dict[str, str]
    uses_index: bool
    profile: Profile | None = None


def contact_email(number: int) -> str:
    """The email of contact ``number``."""
    return f"person{number}@company{number % 997}.example.com"


def lead_email(number: int, contacts: int) -> str:
    """The email of lead ``number``; every tenth is a contact's."""
    if number % 10 == 0:
        return contact_email(number % contacts)
    return f"prospect{number}@firm{number % 991}.example.org"


def _moment(number: int, sqlite: bool) -> str:
    moment = EPOCH + timedelta(seconds=number * 7)
    if sqlite:
        return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return moment.isoformat(sep=" ")


def contact_rows(count: int, sqlite: bool) -> Iterator[tuple[object, ...]]:
    """The contacts, as the columns of :data:`CONTACT_COLUMNS`."""
    for number in range(count):
        yield (
            *("Ada", f"Contact{number}", contact_email(number), "Engineer", ""),
            *("+44 20 7946 0000", "", "Web", "1 Main Street", "London", ""),
            *("N1 9GU", "United Kingdom", "", _moment(number, sqlite)),
        )


def lead_rows(count: int, contacts: int, sqlite: bool) -> Iterator[tuple[object, ...]]:
    """The leads, as the columns of :data:`LEAD_COLUMNS`."""
    for number in range(count):
        yield (
            *("Grace", f"Lead{number}", lead_email(number, contacts), "Firm Ltd"),
            *("", "Technology", "", "", "Partner", "Open - Not Contacted", ""),
            *("", "", "Paris", "", "75001", "France", "", False),
            _moment(number, sqlite),
        )


def load_people(database: Database, records: int) -> float:
    """Insert ``records`` people (half contacts, half leads); return the seconds."""
    contacts = records // 2
    leads = records - contacts
    engine = sa.create_engine(database.url)
    started = time.perf_counter()
    with engine.begin() as connection:
        raw = connection.connection.driver_connection
        if database.kind == "sqlite":
            _insert_sqlite(
                raw, "crm_contacts", CONTACT_COLUMNS, contact_rows(contacts, True)
            )
            _insert_sqlite(
                raw, "crm_leads", LEAD_COLUMNS, lead_rows(leads, contacts, True)
            )
        else:
            _copy_postgres(
                raw, "crm_contacts", CONTACT_COLUMNS, contact_rows(contacts, False)
            )
            _copy_postgres(
                raw, "crm_leads", LEAD_COLUMNS, lead_rows(leads, contacts, False)
            )
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def _insert_sqlite(
    raw: object,
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[object, ...]],
) -> None:
    """executemany in the caller's one transaction."""
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    cursor = raw.cursor()  # type: ignore[attr-defined]
    cursor.executemany(statement, rows)
    cursor.close()


def _copy_postgres(
    raw: object,
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[object, ...]],
) -> None:
    """COPY ... FROM STDIN, row by row through psycopg."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def query_plans(database: Database) -> dict[str, str]:
    """The database's plan for identification's look-up: the portal's own
    statement, one for users, contacts and leads, with an existing email."""
    from portal.crm.builtin import people_by_email_statement

    email = contact_email(12345)
    prefix = "EXPLAIN QUERY PLAN " if database.kind == "sqlite" else "EXPLAIN "
    engine = sa.create_engine(database.url)
    statement = people_by_email_statement().params(email=email)
    sql = str(
        statement.compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True}
        )
    )
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(prefix + sql)
        plan = " / ".join(str(row[-1]).strip() for row in rows)
    engine.dispose()
    return {"users, contacts and leads": plan}


def _uses_email_indexes(plan: str) -> bool:
    # crm_users holds a handful of staff, and a scan of so few rows is what a
    # planner rightly picks; the million are contacts and leads.
    return all(
        f"ix_{table}_email" in plan
        and f"SCAN {table} " not in plan + " "
        and f"Seq Scan on {table} " not in plan + " "
        for table in ("crm_contacts", "crm_leads")
    )


def time_identification(
    database: Database, work: Path, records: int, lookups: int
) -> tuple[list[float], list[float], int]:
    """Milliseconds of each identification of existing and of missing emails."""
    from portal.crm import get_crm
    from portal.extensions import db
    from portal.services.matching import MatchOptions, Submitted, identify

    chooser = random.Random(8)  # noqa: S311 - a reproducible sample, not a secret
    contacts = records // 2
    existing = [
        contact_email(chooser.randrange(contacts))
        if chooser.random() < 0.5
        else lead_email(chooser.randrange(records - contacts), contacts)
        for _ in range(lookups // 2)
    ]
    missing = [
        f"nobody{chooser.randrange(10**9)}@absent.example.net"
        for _ in range(lookups // 2)
    ]
    order = [(email, True) for email in existing] + [
        (email, False) for email in missing
    ]
    chooser.shuffle(order)

    timings: dict[bool, list[float]] = {True: [], False: []}
    found = 0
    with portal_app(database, work):
        crm = get_crm()
        options = MatchOptions()
        for email, _ in order[:200]:
            identify(crm, Submitted(email, "Ada", "Bench"), options)
            db.session.rollback()
        for email, exists in order:
            started = time.perf_counter()
            match, _ = identify(crm, Submitted(email, "Ada", "Bench"), options)
            elapsed = time.perf_counter() - started
            # A worker's session ends with the activity; so does each look-up here.
            db.session.rollback()
            timings[exists].append(elapsed * 1000)
            found += match is not None
    return timings[True], timings[False], found


def profile_identification(
    database: Database, work: Path, records: int, seconds: float
) -> Profile | None:
    """Identifications for ``seconds`` with py-spy sampling this very process."""
    from portal.crm import get_crm
    from portal.extensions import db
    from portal.services.matching import MatchOptions, Submitted, identify

    raw = work / f"profile-matching-{database.kind}.txt"
    recorder = start_recording(os.getpid(), seconds, raw, subprocesses=False)
    if recorder is None:
        return None
    contacts = records // 2
    with portal_app(database, work):
        crm = get_crm()
        number = 0
        while recorder.poll() is None:
            number += 1
            email = (
                contact_email(number * 7919 % contacts)
                if number % 2
                else f"nobody{number}@absent.example.net"
            )
            identify(crm, Submitted(email, "Ada", "Bench"), MatchOptions())
            db.session.rollback()
    return summarise(raw)


def run_matching(
    database: Database,
    work: Path,
    records: int,
    lookups: int,
    profile_seconds: float = 0,
) -> MatchingResult:
    """Migrate a fresh database, load the people, check the plans, time lookups."""
    from portal.cli import migrate_to_head

    with portal_app(database, work):
        migrate_to_head()
    load_seconds = load_people(database, records)
    plans = query_plans(database)
    existing, missing, found = time_identification(database, work, records, lookups)
    every = existing + missing
    profile = None
    if percentile(every, 0.99) >= TARGET_P99_MS and profile_seconds:
        profile = profile_identification(database, work, records, profile_seconds)
    return MatchingResult(
        database=database.label,
        records=records,
        load_seconds=load_seconds,
        lookups=len(every),
        found=found,
        p50_ms=percentile(every, 0.50),
        p99_ms=percentile(every, 0.99),
        existing_p99_ms=percentile(existing, 0.99),
        missing_p99_ms=percentile(missing, 0.99),
        plans=plans,
        uses_index=_uses_email_indexes(next(iter(plans.values()))),
        profile=profile,
    )
