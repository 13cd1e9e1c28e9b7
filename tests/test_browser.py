"""End to end in Debian's Chromium: what attendees and admins do, in a real browser.

The portal is served on a real port of 127.0.0.1 from a thread; a second site on
``localhost`` frames it. Each test starts Chromium on a fresh profile that blocks
third-party cookies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import (
    BrowserContext,
    FloatRect,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from portal.extensions import db
from portal.models import Activity, ActivityKind, Event, Registrant, Role, User
from portal.services.action_sets import site_settings
from portal.services.fields import effective_list
from portal.services.links import embed_snippet
from tests.real_browser import (
    CHROMIUM_SWITCHES,
    blocking_profile,
    chromium_path,
    framing_page,
    landing_site,
    serving,
    with_cookie_probe,
)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, once for the module (it starts no browser itself)."""
    chromium_path()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def portal(app: Flask) -> Iterator[str]:
    """The test's application served on a real port; its address."""
    with serving(with_cookie_probe(app)) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium on a fresh profile that blocks third-party cookies."""
    context = playwright.chromium.launch_persistent_context(
        str(blocking_profile(tmp_path / "profile")),
        executable_path=chromium_path(),
        headless=True,
        args=CHROMIUM_SWITCHES,
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def tab(browser: BrowserContext) -> Page:
    return browser.pages[0] if browser.pages else browser.new_page()


def stored_registrants() -> list[Registrant]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Registrant)))


def bottom(box: FloatRect) -> float:
    """Where a box ends, from the top of the page's viewport."""
    return box["y"] + box["height"]


def labels(tab: Page) -> list[str]:
    """The labels of the visible fields, in order, without the required mark."""
    return [
        text.replace("*", "").replace("(required)", "").strip()
        for text in tab.locator("form.attendee-form .field > label").all_inner_texts()
    ]


def test_hosted_registration_with_an_empty_required_field_a_picklist_and_a_prefill(
    tab: Page, portal: str, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    tab.goto(f"{portal}/e/{event.key}/register?sf_LeadSource=Spring+Newsletter")
    # The honeypot is out of the accessibility tree and out of the tab order.
    expect(tab.get_by_role("textbox", name="Leave this box empty")).to_have_count(0)
    tab.get_by_label("Industry").focus()
    tab.keyboard.press("Tab")
    expect(tab.get_by_role("button", name="Register")).to_be_focused()

    tab.get_by_label("First Name").fill("Ada")
    tab.get_by_label("Email").fill("ada@example.com")
    tab.get_by_label("Company").fill("Analytical Engines")
    tab.get_by_label("Industry").select_option(label="Something else")
    tab.get_by_role("button", name="Register").click()
    # The browser itself keeps an empty required field from being sent.
    assert tab.get_by_label("Last Name").evaluate(
        "field => field.validity.valueMissing"
    )
    assert stored_registrants() == []

    # Spaces pass the browser's check; the server finds the field empty.
    tab.get_by_label("Last Name").fill("   ")
    tab.get_by_role("button", name="Register").click()
    expect(tab.locator("#sf_LastName-error")).to_have_text("Last Name is required.")
    expect(tab.get_by_label("Last Name")).to_have_attribute("aria-invalid", "true")
    expect(tab.get_by_label("Industry")).to_have_value("Other")

    tab.get_by_label("Last Name").fill("Lovelace")
    tab.get_by_role("button", name="Register").click()
    expect(tab.locator(".status")).to_have_text("You're registered, Ada.")

    (registrant,) = stored_registrants()
    assert registrant.answer("Lead Source") == "Spring Newsletter"
    assert registrant.answer("Industry") == "Other"
    assert registrant.last_name == "Lovelace"


def test_the_embedded_form_works_across_sites_with_third_party_cookies_blocked(
    tab: Page, portal: str, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    embed = f"{portal}/embed/{event.key}/register?sf_LeadSource=Partner+Site"
    pages = {
        "/landing": framing_page("Partner landing page", embed),
        "/probe": framing_page("Cookie probe", f"{portal}/__probe/set?name=framed"),
    }
    with serving(landing_site(pages)) as port:
        landing = f"http://localhost:{port}"
        site_settings().embed_origins = [landing]
        db.session.commit()

        # The cookie is one the browser keeps when the portal is the site itself...
        tab.goto(f"{portal}/__probe/set?name=first_party")
        expect(tab.locator("#cookies")).to_have_text("probe_first_party")
        # ...but inside the cross-site frame it neither keeps a new one nor sends
        # the one it has: third-party cookies are blocked.
        tab.goto(f"{landing}/probe")
        expect(tab.frame_locator("#portal").locator("#cookies")).to_have_text("none")

        tab.goto(f"{landing}/landing")
        form = tab.frame_locator("#portal")
        form.get_by_label("First Name").fill("Grace")
        form.get_by_label("Last Name").fill("Hopper")
        form.get_by_label("Email").fill("grace@example.com")
        form.get_by_label("Company").fill("Navy")
        form.get_by_role("button", name="Register").click()

        expect(form.locator(".status")).to_have_text("You're registered, Grace.")
        assert tab.url == f"{landing}/landing"
    (registrant,) = stored_registrants()
    assert registrant.answer("Lead Source") == "Partner Site"


def test_the_snippet_s_frame_grows_to_show_a_server_side_error_and_the_button(
    tab: Page, portal: str, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    snippet = embed_snippet(f"{portal}/embed/{event.key}/register", event.title)
    pages = {"/landing": f"<!doctype html><title>Partner</title>{snippet}"}
    with serving(landing_site(pages)) as port:
        landing = f"http://localhost:{port}"
        site_settings().embed_origins = [landing]
        db.session.commit()

        tab.goto(f"{landing}/landing")
        form = tab.frame_locator("iframe")
        form.get_by_label("First Name").fill("Grace")
        form.get_by_label("Last Name").fill("Hopper")
        form.get_by_label("Email").fill("a@b")
        form.get_by_label("Company").fill("Navy")
        form.get_by_role("button", name="Register").click()
        expect(form.locator("#sf_Email-error")).to_be_visible()

        frame = tab.locator("iframe")
        button = form.get_by_role("button", name="Register")
        # The frame takes its new height once the page inside has posted it.
        for _ in range(50):
            frame_box, button_box = frame.bounding_box(), button.bounding_box()
            assert frame_box is not None
            assert button_box is not None
            if bottom(button_box) <= bottom(frame_box):
                break
            tab.wait_for_timeout(100)
        assert bottom(button_box) <= bottom(frame_box)
        assert frame_box["height"] > 760

        # A height from any other sender (here the landing page itself) is ignored.
        tab.evaluate("window.postMessage({portalFrameHeight: 10}, '*')")
        tab.wait_for_timeout(200)
        assert frame.bounding_box() == frame_box


def test_a_site_not_listed_cannot_show_the_form(
    tab: Page, portal: str, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    pages = {
        "/landing": framing_page("Elsewhere", f"{portal}/embed/{event.key}/register")
    }
    console: list[str] = []
    tab.on("console", lambda message: console.append(message.text))
    with serving(landing_site(pages)) as port:
        tab.goto(f"http://localhost:{port}/landing", wait_until="load")
        # The top page's load can come before Chromium has swapped the refused
        # frame for its error page; give it a few seconds to do so.
        for _ in range(100):
            if tab.frames[1].url.startswith("chrome-error://") and console:
                break
            tab.wait_for_timeout(100)

    assert tab.frames[1].url.startswith("chrome-error://")
    assert any("frame-ancestors 'self'" in line for line in console)


def test_the_direct_join_page_records_the_join_and_opens_the_meeting(
    tab: Page, portal: str, make_event: Callable[..., Event]
) -> None:
    meeting_page = "<!doctype html><title>Meeting</title><h1>Meeting room</h1>"
    with serving(landing_site({"/meeting/42": meeting_page})) as port:
        meeting = f"http://localhost:{port}/meeting/42"
        event = make_event(join_url=meeting)
        tab.goto(f"{portal}/e/{event.key}/join")

        tab.get_by_label("First Name").fill("Ada")
        tab.get_by_label("Last Name").fill("Lovelace")
        tab.get_by_label("Email").fill("ada@example.com")
        tab.get_by_label("Company").fill("Engines")
        tab.get_by_role("button", name="Join now").click()

        tab.wait_for_url(meeting)
        expect(tab.locator("h1")).to_have_text("Meeting room")
    db.session.expire_all()
    join = db.session.scalars(
        sa.select(Activity).where(Activity.kind == ActivityKind.JOIN)
    ).one()
    assert join.registrant.email == "ada@example.com"


def test_moving_a_field_up_and_down_changes_the_public_form(
    tab: Page,
    portal: str,
    make_event: Callable[..., Event],
    make_user: Callable[..., User],
) -> None:
    admin = make_user(role=Role.ADMIN, email="admin@example.com")
    event = make_event()
    tab.goto(f"{portal}/sign-in")
    tab.get_by_label("Email").fill(admin.email)
    tab.get_by_label("Password").fill("correct horse battery")
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()

    tab.goto(f"{portal}/admin/sessions/{event.id}/fields")
    tab.get_by_role("button", name="Move Title up").click()
    expect(tab.get_by_role("status")).to_contain_text("Moved Title up.")
    tab.goto(f"{portal}/e/{event.key}/register")
    after_up = labels(tab)

    tab.goto(f"{portal}/admin/sessions/{event.id}/fields")
    tab.get_by_role("button", name="Move Title down").click()
    tab.get_by_role("button", name="Move Title down").click()
    tab.goto(f"{portal}/e/{event.key}/register")
    after_down = labels(tab)

    assert after_up == [
        "First Name",
        "Last Name",
        "Email",
        "Title",
        "Company",
        "Industry",
    ]
    assert after_down == [
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Industry",
        "Title",
    ]
    db.session.expire_all()
    names = [d.display_name for d in effective_list(event).definitions]
    assert names[-2:] == ["Title", "Lead Source"]
