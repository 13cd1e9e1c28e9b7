"""When the queue is worked: in the background of each web process, right after an
answer is sent, or by ``flask --app portal worker``.

``PROCESSING = "background"`` (the default with the built-in CRM) gives each web
process one thread that works the queue as soon as a request records an activity, and
every few seconds besides, so that retries come due without a worker and no request
thread ever waits for the CRM or a mail server. ``"after_response"`` works a
request's activities in that request's thread once its answer is sent (the tests use
it: the work is done when the answer is read). ``"worker"`` leaves everything to
``flask --app portal worker``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

from flask import Flask, after_this_request, current_app, has_request_context
from werkzeug.wrappers import Response

from portal.extensions import db
from portal.models import Activity
from portal.models.activity import MAIL_QUEUE, mail_queue_key
from portal.services.processing import process_all, process_next, worker_name

logger = logging.getLogger(__name__)

MODES = ("background", "after_response", "worker")
#: How many of one request's people's activities ``after_response`` works, at most.
AFTER_RESPONSE_LIMIT = 20


def process_soon(activities: Iterable[Activity]) -> None:
    """See that these just-committed activities are processed, as the mode says."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    mode = app.config["PROCESSING"]
    if mode == "background":
        background_processor(app).wake()
        return
    if mode != "after_response":
        return
    # A person's mail waits in its own queue, and once sent returns to theirs.
    plain_keys = {
        activity.person_key.removeprefix(MAIL_QUEUE) for activity in activities
    }
    person_keys = sorted(plain_keys | {mail_queue_key(key) for key in plain_keys})
    if not person_keys:
        return

    def work() -> None:
        with app.app_context():
            _work_people(person_keys)

    if has_request_context():

        @after_this_request
        def schedule(response: Response) -> Response:
            response.call_on_close(work)
            return response

    else:
        work()


def _work_people(person_keys: list[str]) -> None:
    """These people's ready activities, and the ones they lead to."""
    worker = worker_name()
    try:
        done = 0
        while done < AFTER_RESPONSE_LIMIT and process_next(
            worker, person_keys=person_keys
        ):
            done += 1
    except Exception:
        logger.exception("Processing after a request failed; the activities wait")
        db.session.rollback()
    finally:
        db.session.remove()


class BackgroundProcessor:
    """One thread per web process that works the queue when woken, and regularly."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.poll_seconds = float(app.config["PROCESSING_POLL_SECONDS"])
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def start(self) -> None:
        """Start the thread if this process has none (a fork has none either)."""
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="portal-processing", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        """Have the thread look at the queue now."""
        self.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the thread finish what it holds and end (an application closing)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        worker = worker_name()
        logger.info("Background processing started (%s)", worker)
        while not self._stopping.is_set():
            self._wake.wait(timeout=self.poll_seconds)
            self._wake.clear()
            if self._stopping.is_set():
                break
            with self.app.app_context():
                try:
                    process_all(worker)
                except Exception:
                    # The thread outlives any one problem; the activities wait.
                    logger.exception("Background processing failed; trying again")
                    db.session.rollback()
                finally:
                    db.session.remove()


def background_processor(app: Flask) -> BackgroundProcessor:
    """The application's background processor, made on first use."""
    processor = app.extensions.get("portal.processor")
    if processor is None:
        processor = BackgroundProcessor(app)
        app.extensions["portal.processor"] = processor
    return processor


def start_background_processing() -> None:
    """On a web process's first request: start its thread, so that retries and
    activities left from before a restart are worked even before anyone registers."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["PROCESSING"] == "background":
        background_processor(app).start()


def run_worker(
    stop: threading.Event, *, poll_seconds: float = 1.0, exit_when_idle: bool = False
) -> int:
    """Work the queue until ``stop`` is set (or it is empty, if asked).

    Returns how many activities it worked on (each done, skipped, failed, or put back
    for a retry).
    """
    worker = worker_name()
    logger.info("Worker %s started", worker)
    done = 0
    while not stop.is_set():
        try:
            busy = process_next(worker)
        except Exception:
            # A worker outlives any one problem (a database gone for a moment, a
            # bug in claiming); the activities wait and are tried again.
            logger.exception("Claiming an activity failed; trying again shortly")
            db.session.rollback()
            busy = False
        if busy:
            done += 1
            continue
        if exit_when_idle:
            break
        stop.wait(poll_seconds)
    logger.info("Worker %s stopped after %s activities", worker, done)
    return done
