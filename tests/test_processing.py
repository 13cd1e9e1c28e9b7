"""The activity queue: processed once, in order per person, retried, never dropped."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from portal.crm.base import CrmError
from portal.crm.builtin import BuiltinCrm
from portal.extensions import db
from portal.models import (
    Activity,
    ActivityKind,
    ActivityStatus,
    Campaign,
    CampaignMember,
    CampaignMemberStatus,
    Event,
    FeedPost,
    Lead,
    Registrant,
    Task,
    utcnow,
)
from portal.services import handling, processing
from portal.services.mail import MailError
from portal.services.processing import (
    claim_next,
    process_all,
    process_claimed,
    process_next,
)
from portal.services.runners import process_soon, run_worker
from tests.conftest import form_values, page
from tests.test_registration_pages import fill

#: Long enough for anything a healthy queue does; reaching it fails the test.
SETTLE_TIMEOUT = 60.0
SQLITE_HAS_ONE_WRITER = (
    "SQLite writes one transaction at a time, so its claims never overlap and its ids "
    "are committed in order: several workers at once is a PostgreSQL matter"
)
EMAILS = [f"attendee{number}@example.com" for number in range(10)]


class CrmTimeout(CrmError):
    """A CRM failure that may pass: a timeout."""

    is_transient = True


@pytest.fixture
def webinar(make_event: Callable[..., Event]) -> Event:
    """A session whose registrants become members of a campaign."""
    campaign = Campaign(name="Spring Webinars")
    campaign.statuses = [
        CampaignMemberStatus(label="Sent", is_default=True, sort_order=0),
        CampaignMemberStatus(label="Registered", sort_order=1),
        CampaignMemberStatus(label="Attended", has_responded=True, sort_order=2),
    ]
    db.session.add(campaign)
    db.session.commit()
    return make_event(campaign_id=str(campaign.id))


@pytest.fixture
def queued(app: Flask) -> Flask:
    """The application with processing left to a worker."""
    app.config["PROCESSING"] = "worker"
    return app


@pytest.fixture
def cli(app: Flask) -> Iterator[FlaskCliRunner]:
    """A command runner; the worker command's SIGTERM handler is undone afterwards."""
    previous = signal.getsignal(signal.SIGTERM)
    yield app.test_cli_runner()
    signal.signal(signal.SIGTERM, previous)


def register(client: FlaskClient, event: Event, email: str) -> None:
    """Register ``email`` through the hosted page, as a browser would."""
    url = f"/e/{event.key}/register"
    values = form_values(page(client.get(url)))
    response = client.post(url, data=fill(values, sf_Email=email))
    assert response.status_code == 303


def queue(event: Event, person_key: str, **values: Any) -> int:
    """Record a bare activity for ``person_key``; return its id."""
    activity = Activity(
        kind=ActivityKind.REGISTER,
        event=event,
        person_key=person_key,
        payload={},
        **values,
    )
    db.session.add(activity)
    db.session.commit()
    return activity.id


def activities() -> list[Activity]:
    """Every activity as the database has it now, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Activity).order_by(Activity.id)))


def register_activity() -> Activity:
    """The one register activity there is."""
    (activity,) = [
        activity for activity in activities() if activity.kind is ActivityKind.REGISTER
    ]
    return activity


def count(model: type[Any]) -> int:
    """How many rows ``model`` has."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def claim_everything(worker: str) -> list[int]:
    """Claim until nothing is ready; return what was claimed, in order."""
    claimed = []
    while (activity_id := claim_next(worker)) is not None:
        claimed.append(activity_id)
    return claimed


def raise_error(error: Exception) -> Callable[..., NoReturn]:
    """A stand-in for a function that fails with ``error``."""

    def fail(*args: Any, **kwargs: Any) -> NoReturn:
        raise error

    return fail


def skip_on_sqlite(database_url: str) -> None:
    """Skip a test of several writers at once, which only PostgreSQL has."""
    if database_url.startswith("sqlite"):
        pytest.skip(SQLITE_HAS_ONE_WRITER)


def run_threads(targets: Sequence[Callable[[], None]]) -> None:
    """Run each target in a thread of its own, wait for all, re-raise any error."""
    errors: list[Exception] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SETTLE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]


def register_all_at_once(app: Flask, submissions: Sequence[tuple[str, str]]) -> None:
    """POST one freshly fetched form per (session key, email), all at the same time.

    Each thread has its own client and no application context of its own: every
    request pushes one and pops it before its answer is closed, as under a server,
    so the processing that runs on close uses a connection of its own.
    """
    barrier = threading.Barrier(len(submissions), timeout=SETTLE_TIMEOUT)

    def submit(event_key: str, email: str) -> Callable[[], None]:
        def send() -> None:
            browser = app.test_client()
            url = f"/e/{event_key}/register"
            values = form_values(page(browser.get(url)))
            barrier.wait()
            response = browser.post(
                url, data=fill(values, sf_Email=email), buffered=True
            )
            assert response.status_code == 303

        return send

    run_threads([submit(event_key, email) for event_key, email in submissions])


@contextmanager
def running_workers(app: Flask, how_many: int) -> Iterator[None]:
    """Run ``how_many`` workers in threads until the block ends."""
    stop = threading.Event()
    errors: list[Exception] = []

    def work() -> None:
        try:
            with app.app_context():
                run_worker(stop, poll_seconds=0.05)
        except Exception as error:
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(how_many)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(SETTLE_TIMEOUT)
    assert not any(worker.is_alive() for worker in workers)
    assert errors == []


def wait_until_settled() -> None:
    """Wait until no activity is pending or being processed."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    unsettled = sa.select(sa.func.count()).where(
        Activity.status.in_([ActivityStatus.PENDING, ActivityStatus.PROCESSING])
    )
    while waiting := db.session.scalar(unsettled):
        db.session.rollback()
        if time.monotonic() > deadline:
            pytest.fail(f"{waiting} activities still unprocessed")
        time.sleep(0.05)


# Processing after the request, or by the worker


def test_registration_is_processed_right_after_the_request(
    client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")

    activity = register_activity()
    assert activity.status is ActivityStatus.DONE
    assert activity.attempts == 1
    assert activity.processed_at is not None
    assert activity.locked_by is None
    assert activity.trace is not None
    assert activity.trace["crm"] == "built-in CRM"
    assert activity.trace["match"]["rule"] == "no match: new lead"
    assert activity.trace["actions"]
    (lead,) = db.session.scalars(sa.select(Lead))
    assert lead.email == "ada@example.com"
    assert (activity.crm_person_type, activity.crm_person_id) == ("lead", str(lead.id))
    assert count(CampaignMember) == 1
    # The confirmation email it queued was processed in the same turn.
    assert [(item.kind, item.status) for item in activities()] == [
        (ActivityKind.REGISTER, ActivityStatus.DONE),
        (ActivityKind.EMAIL, ActivityStatus.DONE),
    ]


def test_without_inline_processing_the_activity_waits_for_the_worker(
    queued: Flask, client: FlaskClient, cli: FlaskCliRunner, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")

    activity = register_activity()
    assert activity.status is ActivityStatus.PENDING
    assert activity.attempts == 0
    assert count(Lead) == 0

    result = cli.invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "Worked on 3 activities" in result.output
    assert [item.status for item in activities()] == [ActivityStatus.DONE] * 2
    assert count(Lead) == 1


def test_process_soon_outside_a_request_processes_at_once(
    queued: Flask, client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")
    activity = register_activity()

    process_soon([activity])
    assert register_activity().status is ActivityStatus.PENDING

    queued.config["PROCESSING"] = "after_response"
    process_soon([activity])
    assert register_activity().status is ActivityStatus.DONE
    assert count(Lead) == 1


def test_in_the_background_no_request_waits_and_every_activity_is_worked(
    queued: Flask, client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")  # left from before: nobody woke
    queued.config["PROCESSING"] = "background"
    queued.config["PROCESSING_POLL_SECONDS"] = 0.05

    register(client, webinar, "grace@example.com")

    wait_until_settled()
    assert [(item.person_key, item.kind, item.status) for item in activities()] == [
        ("ada@example.com", ActivityKind.REGISTER, ActivityStatus.DONE),
        ("grace@example.com", ActivityKind.REGISTER, ActivityStatus.DONE),
        ("ada@example.com", ActivityKind.EMAIL, ActivityStatus.DONE),
        ("grace@example.com", ActivityKind.EMAIL, ActivityStatus.DONE),
    ]


def test_worker_exits_when_idle_or_stopped(
    queued: Flask, client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")
    register(client, webinar, "grace@example.com")
    stopped = threading.Event()
    stopped.set()

    assert run_worker(stopped) == 0
    # Two registrations, and two emails, each sent and then logged.
    assert run_worker(threading.Event(), exit_when_idle=True) == 6
    assert {item.status for item in activities()} == {ActivityStatus.DONE}


# Exactly once


def test_two_claims_never_return_the_same_activity(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    ada = queue(event, "ada@example.com")
    grace = queue(event, "grace@example.com")

    first = claim_next("worker-1")
    second = claim_next("worker-2")

    assert {first, second} == {ada, grace}
    assert claim_next("worker-3") is None
    claimed = db.session.get(Activity, ada)
    assert claimed is not None
    assert claimed.status is ActivityStatus.PROCESSING
    assert (claimed.locked_by, claimed.attempts) == ("worker-1", 1)


def test_concurrent_claims_take_every_activity_exactly_once(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    queued_ids = [queue(event, f"person{number}@example.com") for number in range(40)]
    claimed: list[int] = []
    barrier = threading.Barrier(4, timeout=SETTLE_TIMEOUT)

    def claimer(worker: str) -> Callable[[], None]:
        def claim() -> None:
            with app.app_context():
                barrier.wait()
                claimed.extend(claim_everything(worker))

        return claim

    run_threads([claimer(f"worker-{number}") for number in range(4)])

    assert sorted(claimed) == queued_ids


def test_a_processed_activity_is_never_claimed_again(
    client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")
    before = [(item.id, item.status, item.attempts) for item in activities()]

    far_later = utcnow() + timedelta(days=30)
    assert claim_next("worker-1", now=far_later) is None
    assert process_all("worker-1") == 0

    assert [(item.id, item.status, item.attempts) for item in activities()] == before
    assert count(Lead) == 1


# Order of arrival per person


@pytest.mark.parametrize(
    ("first_status", "is_blocking"),
    [
        (ActivityStatus.PENDING, True),
        (ActivityStatus.PROCESSING, True),
        (ActivityStatus.DONE, False),
        (ActivityStatus.FAILED, False),
        (ActivityStatus.SKIPPED, False),
    ],
    ids=["waiting-for-a-retry", "being-processed", "done", "failed", "skipped"],
)
def test_a_persons_next_activity_waits_until_the_one_before_is_finished(
    app: Flask,
    make_event: Callable[..., Event],
    first_status: ActivityStatus,
    is_blocking: bool,
) -> None:
    event = make_event()
    state: dict[str, Any] = {"status": first_status}
    if first_status is ActivityStatus.PENDING:
        state["available_at"] = utcnow() + timedelta(hours=1)
    if first_status is ActivityStatus.PROCESSING:
        state.update(locked_at=utcnow(), locked_by="worker-0")
    first = queue(event, "ada@example.com", **state)
    second = queue(event, "ada@example.com")
    other = queue(event, "grace@example.com")

    claimed = claim_everything("worker-1")

    if not is_blocking:
        assert claimed == [second, other]
        return
    assert claimed == [other]
    db.session.execute(
        sa.update(Activity)
        .where(Activity.id == first)
        .values(status=ActivityStatus.DONE, locked_at=None)
    )
    db.session.commit()
    assert claim_everything("worker-1") == [second]


@pytest.mark.parametrize(
    ("lock_age", "is_blocking"),
    [(timedelta(seconds=10), True), (timedelta(hours=1), False)],
    ids=["live-lock", "stale-lock"],
)
def test_an_activity_behind_a_later_one_being_processed_waits_for_it(
    app: Flask,
    make_event: Callable[..., Event],
    lock_age: timedelta,
    is_blocking: bool,
) -> None:
    """Ids can be committed out of order (PostgreSQL): a held activity still blocks.

    A stale lock must not block, or the two activities would wait for each other.
    """
    event = make_event()
    earlier = queue(event, "ada@example.com")
    queue(
        event,
        "ada@example.com",
        status=ActivityStatus.PROCESSING,
        locked_at=utcnow() - lock_age,
        locked_by="worker-1",
    )

    assert claim_next("worker-2") == (None if is_blocking else earlier)


def test_an_activity_committed_late_waits_for_its_persons_activity_in_hand(
    app: Flask, make_event: Callable[..., Event], database_url: str
) -> None:
    skip_on_sqlite(database_url)
    event = make_event()
    event_id = event.id

    with Session(db.engine) as slow_request:
        late = Activity(
            kind=ActivityKind.REGISTER,
            event_id=event_id,
            person_key="ada@example.com",
            payload={},
        )
        slow_request.add(late)
        slow_request.flush()
        late_id = late.id
        early_id = queue(event, "ada@example.com")
        assert early_id > late_id
        assert claim_next("worker-1") == early_id
        slow_request.commit()

    assert claim_next("worker-2") is None
    process_claimed(early_id, "worker-1")
    assert claim_next("worker-2") == late_id


# Retries


def test_a_failed_try_is_retried_after_a_backoff(
    queued: Flask,
    client: FlaskClient,
    webinar: Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(client, webinar, "ada@example.com")
    monkeypatch.setattr(
        handling, "match_person", raise_error(RuntimeError("CRM unreachable"))
    )
    retry_seconds = queued.config["PROCESSING_RETRY_SECONDS"]

    before = utcnow()
    assert process_next("worker-1")
    after = utcnow()

    activity = register_activity()
    assert activity.status is ActivityStatus.PENDING
    assert activity.attempts == 1
    assert activity.last_error == "RuntimeError: CRM unreachable"
    assert (activity.locked_at, activity.locked_by) == (None, None)
    retry_at = activity.available_at
    assert before + timedelta(seconds=0.8 * retry_seconds) <= retry_at
    assert retry_at <= after + timedelta(seconds=retry_seconds)
    assert claim_next("worker-2") is None
    assert claim_next("worker-2", now=retry_at - timedelta(seconds=1)) is None
    assert claim_next("worker-2", now=retry_at) == activity.id


def test_after_the_last_try_the_activity_is_failed_with_its_error(
    queued: Flask,
    client: FlaskClient,
    webinar: Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    queued.config["PROCESSING_MAX_ATTEMPTS"] = 3
    register(client, webinar, "ada@example.com")
    monkeypatch.setattr(BuiltinCrm, "create_lead", raise_error(CrmTimeout("timeout")))
    retry_seconds = queued.config["PROCESSING_RETRY_SECONDS"]
    activity_id = register_activity().id

    for attempt in (1, 2, 3):
        ready_at = register_activity().available_at
        assert claim_next("worker-1", now=ready_at) == activity_id
        before = utcnow()
        process_claimed(activity_id, "worker-1")
        after = utcnow()
        activity = register_activity()
        assert activity.attempts == attempt
        if attempt < 3:
            assert activity.status is ActivityStatus.PENDING
            wait = retry_seconds * 2 ** (attempt - 1)
            assert before + timedelta(seconds=0.8 * wait) <= activity.available_at
            assert activity.available_at <= after + timedelta(seconds=wait)

    assert activity.status is ActivityStatus.FAILED
    assert activity.last_error == "CrmTimeout: timeout"
    assert activity.processed_at is not None
    assert claim_next("worker-1", now=utcnow() + timedelta(days=30)) is None
    # Nothing is deleted: the registration and its activity stay for an operator.
    assert [item.id for item in activities()] == [activity_id]
    assert count(Registrant) == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (
            CrmError("The built-in CRM has no field Shoe_Size__c."),
            ActivityStatus.FAILED,
        ),
        (CrmTimeout("The CRM did not answer."), ActivityStatus.PENDING),
        (MailError("Mailbox full.", is_transient=False), ActivityStatus.FAILED),
        (MailError("Try later.", is_transient=True), ActivityStatus.PENDING),
        (RuntimeError("Unexpected."), ActivityStatus.PENDING),
    ],
    ids=["crm-refusal", "crm-timeout", "mail-refusal", "mail-delay", "other-error"],
)
def test_only_a_transient_error_is_retried(
    queued: Flask,
    client: FlaskClient,
    webinar: Event,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: ActivityStatus,
) -> None:
    register(client, webinar, "ada@example.com")
    monkeypatch.setattr(handling, "match_person", raise_error(error))

    assert process_next("worker-1")

    activity = register_activity()
    assert (activity.status, activity.attempts) == (status, 1)
    assert activity.last_error == f"{type(error).__name__}: {error}"


def test_a_failed_try_leaves_no_half_made_crm_records(
    queued: Flask,
    client: FlaskClient,
    webinar: Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register(client, webinar, "ada@example.com")
    # The lead and the campaign member are written before the task fails.
    monkeypatch.setattr(BuiltinCrm, "create_task", raise_error(CrmTimeout("timeout")))

    assert process_next("worker-1")

    activity = register_activity()
    assert activity.status is ActivityStatus.PENDING
    assert (activity.trace, activity.crm_person_id) == (None, None)
    assert [count(model) for model in (Lead, CampaignMember, Task, FeedPost)] == [
        0,
        0,
        0,
        0,
    ]
    assert len(activities()) == 1

    monkeypatch.undo()
    assert claim_next("worker-1", now=activity.available_at) == activity.id
    process_claimed(activity.id, "worker-1")

    assert register_activity().status is ActivityStatus.DONE
    assert [count(model) for model in (Lead, CampaignMember, Task)] == [1, 1, 1]


def test_a_commit_that_fails_is_a_failed_try_and_the_worker_goes_on(
    queued: Flask, client: FlaskClient, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")
    ada = register_activity()
    # The email Ada's actions queue is only written at the commit, where it clashes.
    queue(
        webinar,
        "someone-else@example.com",
        status=ActivityStatus.DONE,
        dedupe_key=f"email:{ada.id}",
    )
    register(client, webinar, "grace@example.com")

    assert run_worker(threading.Event(), exit_when_idle=True) == 4

    db.session.expire_all()
    assert ada.status is ActivityStatus.PENDING
    assert ada.attempts == 1
    assert (ada.last_error or "").startswith("IntegrityError")
    assert count(Lead) == 1


# A worker that died


def test_a_stale_lock_is_taken_over(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    activity_id = queue(event, "ada@example.com")
    lock_seconds = app.config["PROCESSING_LOCK_SECONDS"]
    claimed_at = utcnow()
    assert claim_next("worker-gone", now=claimed_at) == activity_id

    still_fresh = claimed_at + timedelta(seconds=lock_seconds - 1)
    assert claim_next("worker-2", now=still_fresh) is None
    stale = claimed_at + timedelta(seconds=lock_seconds + 1)
    assert claim_next("worker-2", now=stale) == activity_id

    activity = db.session.get(Activity, activity_id)
    assert activity is not None
    assert activity.status is ActivityStatus.PROCESSING
    assert (activity.locked_by, activity.attempts) == ("worker-2", 2)


def test_a_slow_worker_whose_activity_was_taken_over_drops_its_try(
    client: FlaskClient, queued: Flask, webinar: Event
) -> None:
    register(client, webinar, "ada@example.com")
    activity_id = register_activity().id
    lock_seconds = queued.config["PROCESSING_LOCK_SECONDS"]
    claimed_at = utcnow()
    assert claim_next("slow-worker", now=claimed_at) == activity_id
    stale = claimed_at + timedelta(seconds=lock_seconds + 1)
    assert claim_next("second-worker", now=stale) == activity_id

    process_claimed(activity_id, "slow-worker")
    assert count(Lead) == 0
    assert register_activity().locked_by == "second-worker"
    process_claimed(activity_id, "second-worker")

    assert count(Lead) == 1
    assert register_activity().status is ActivityStatus.DONE


def test_an_activity_that_outlives_every_worker_is_failed_not_retried_forever(
    app: Flask, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    activity_id = queue(event, "ada@example.com")
    lock_seconds = app.config["PROCESSING_LOCK_SECONDS"]
    moment = utcnow()
    for _ in range(app.config["PROCESSING_MAX_ATTEMPTS"]):
        assert claim_next("doomed-worker", now=moment) == activity_id
        moment += timedelta(seconds=lock_seconds + 1)

    assert claim_next("next-worker", now=moment) is None

    (activity,) = activities()
    assert activity.status is ActivityStatus.FAILED
    assert "stopped on every try" in (activity.last_error or "")


def test_a_worker_outlives_an_unexpected_error_while_claiming(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Counter[str]()
    stop = threading.Event()

    def claim_badly(worker: str, **options: Any) -> None:
        calls["claims"] += 1
        if calls["claims"] >= 3:
            stop.set()
        raise RuntimeError("a bug in claiming")

    monkeypatch.setattr(processing, "claim_next", claim_badly)

    assert run_worker(stop, poll_seconds=0) == 0
    assert calls["claims"] == 3


# One new email, one lead


def test_one_persons_activities_in_two_hands_at_once_make_one_lead(
    queued: Flask,
    client: FlaskClient,
    webinar: Event,
    make_event: Callable[..., Event],
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    """Even when two workers hold one new person's activities, they take turns.

    The first pauses right after creating the lead, until the second is done or for a
    second at most; the second must not look for the person before the first commits.
    """
    skip_on_sqlite(database_url)
    other_webinar = make_event(campaign_id=webinar.campaign_id)
    register(client, webinar, "ada@example.com")
    register(client, other_webinar, "ada@example.com")
    first, second = (item.id for item in activities())
    # Both held at once, as two claims at the very same moment would leave them.
    for activity_id, worker in ((first, "worker-1"), (second, "worker-2")):
        held = db.session.get(Activity, activity_id)
        assert held is not None
        held.status, held.locked_by, held.locked_at = (
            ActivityStatus.PROCESSING,
            worker,
            utcnow(),
        )
    db.session.commit()
    first_has_created = threading.Event()
    second_is_done = threading.Event()
    create_lead = BuiltinCrm.create_lead

    def create_lead_then_pause(crm: BuiltinCrm, values: Any) -> Any:
        lead = create_lead(crm, values)
        if not first_has_created.is_set():
            first_has_created.set()
            second_is_done.wait(timeout=1)
        return lead

    monkeypatch.setattr(BuiltinCrm, "create_lead", create_lead_then_pause)

    def process_first() -> None:
        with queued.app_context():
            process_claimed(first, "worker-1")

    def process_second() -> None:
        assert first_has_created.wait(timeout=SETTLE_TIMEOUT)
        with queued.app_context():
            process_claimed(second, "worker-2")
        second_is_done.set()

    run_threads([process_first, process_second])

    (lead,) = db.session.scalars(sa.select(Lead))
    registers = [item for item in activities() if item.kind is ActivityKind.REGISTER]
    assert [item.crm_person_id for item in registers] == [str(lead.id)] * 2
    assert count(CampaignMember) == 1


@pytest.mark.parametrize("mode", ["inline", "two workers"])
def test_first_registrations_for_two_sessions_at_once_make_one_lead_per_email(
    app: Flask,
    webinar: Event,
    make_event: Callable[..., Event],
    database_url: str,
    mode: str,
) -> None:
    if mode == "two workers":
        skip_on_sqlite(database_url)
    app.config["PROCESSING"] = "after_response" if mode == "inline" else "worker"
    other_webinar = make_event(campaign_id=webinar.campaign_id)
    emails = EMAILS[:5]
    submissions = [
        (event.key, email) for email in emails for event in (webinar, other_webinar)
    ]

    with running_workers(app, 2 if mode == "two workers" else 0):
        register_all_at_once(app, submissions)
        wait_until_settled()

    leads = {lead.email: lead for lead in db.session.scalars(sa.select(Lead))}
    assert sorted(leads) == emails
    registrants = list(db.session.scalars(sa.select(Registrant)))
    assert len(registrants) == 10
    for registrant in registrants:
        assert registrant.crm_person_id == str(leads[registrant.email_key].id)
    assert count(CampaignMember) == 5
    assert {item.status for item in activities()} == {ActivityStatus.DONE}


@pytest.mark.parametrize("mode", ["inline", "two workers"])
def test_fifty_concurrent_registrations_for_ten_new_emails_make_ten_leads(
    app: Flask, webinar: Event, database_url: str, mode: str
) -> None:
    """Five forms for each of ten new emails, all sent at once, to one session."""
    if mode == "two workers":
        skip_on_sqlite(database_url)
    app.config["PROCESSING"] = "after_response" if mode == "inline" else "worker"
    submissions = [(webinar.key, email) for email in EMAILS for _ in range(5)]

    with running_workers(app, 2 if mode == "two workers" else 0):
        register_all_at_once(app, submissions)
        if mode == "inline":
            # No worker: the requests themselves have processed everything.
            assert {item.status for item in activities()} == {ActivityStatus.DONE}
        wait_until_settled()

    assert count(Registrant) == 10
    assert sorted(lead.email for lead in db.session.scalars(sa.select(Lead))) == EMAILS
    assert count(CampaignMember) == 10
    every = activities()
    assert Counter(item.status for item in every) == {ActivityStatus.DONE: len(every)}
    assert Counter(item.kind for item in every)[ActivityKind.REGISTER] == 10
    assert [item for item in every if item.last_error] == []
