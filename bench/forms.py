"""Reading a page's form and writing the bodies the load generators send."""

from __future__ import annotations

import urllib.parse
import urllib.request
from html.parser import HTMLParser

#: The answers every benchmark attendee gives; %N% makes the person new.
ANSWERS = {
    # The portal's names (its inputs are the prefill parameters) ...
    "sf_FirstName": "Ada",
    "sf_LastName": "Bench %N%",
    "sf_Email": "bench-%N%@example.com",
    "sf_Company": "Analytical Engines Ltd",
    "sf_Title": "Engineer",
    "sf_Industry": "Technology",
    "sf_Phone": "+44 20 7946 0000",
    "sf_Country": "United Kingdom",
    "sf_Role": "Engineering",
    # ... and the baseline's.
    "first_name": "Ada",
    "last_name": "Bench %N%",
    "email": "bench-%N%@example.com",
    "company": "Analytical Engines Ltd",
    "title": "Engineer",
    "industry": "Technology",
    "phone": "+44 20 7946 0000",
    "country": "United Kingdom",
    "job_role": "Engineering",
}


class _FormReader(HTMLParser):
    """The names and values of the first form's inputs and selects."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if self._done:
            return
        if tag == "form":
            self._in_form = True
        elif self._in_form and tag == "input" and attributes.get("name"):
            self.values[attributes["name"]] = attributes.get("value", "")
        elif self._in_form and tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
            self.values.setdefault(self._select, "")
        elif self._select and tag == "option" and "selected" in attributes:
            self.values[self._select] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_of(html: str) -> dict[str, str]:
    """What a browser would send for the page's first form, as it stands."""
    reader = _FormReader()
    reader.feed(html)
    return reader.values


def fetch(url: str) -> str:
    """A page's HTML."""
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310
        return str(answer.read().decode())


def body_template(url: str) -> str:
    """A form body for the page at ``url``: its own values, the attendee's answers,
    and the %TOKEN% and %N% placeholders the load generators fill in."""
    values = form_of(fetch(url))
    if "form_token" not in values:
        raise RuntimeError(f"no form token on {url}")
    values["form_token"] = "%TOKEN%"  # noqa: S105 - a placeholder, not a secret
    for name in values:
        if name in ANSWERS:
            values[name] = ANSWERS[name]
    encoded = urllib.parse.urlencode(values)
    return encoded.replace("%25TOKEN%25", "%TOKEN%").replace("%25N%25", "%N%")


def fetch_tokens(url: str, count: int) -> list[str]:
    """``count`` form tokens, each from a GET of the page, as browsers get them."""
    return [form_of(fetch(url))["form_token"] for _ in range(count)]
