"""The attendee form builder, its field kinds and its normalisation of input."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms.widgets import Select

from portal.forms.attendee import (
    build_attendee_form,
    clean_text,
    field_kind,
    initial_values,
)
from portal.models import FixedField
from portal.services.email_addresses import InvalidEmail, parse_email
from portal.services.fields import FieldSpec
from portal.services.prefill import read_prefill


def spec(name: str, **settings: object) -> FieldSpec:
    values: dict[str, object] = {
        "display_name": name,
        "fixed": None,
        "contact_field": "",
        "lead_field": "",
        "is_required": False,
        "is_hidden": False,
        "default_value": "",
        "options": (),
        "max_length": 255,
    }
    values.update(settings)
    return FieldSpec(**values)  # type: ignore[arg-type]


SPECS = (
    spec("First Name", fixed=FixedField.FIRST_NAME, is_required=True, max_length=40),
    spec("Last Name", fixed=FixedField.LAST_NAME, is_required=True, max_length=80),
    spec("Email", fixed=FixedField.EMAIL, is_required=True, max_length=80),
    spec("Company", fixed=FixedField.COMPANY),
    spec("Region", options=(("Europe", "EMEA"), ("Americas", "AMER"))),
    spec("Lead Source", is_hidden=True, default_value="Web"),
    spec("Tier", is_hidden=True, options=(("Gold", "gold"), ("Silver", "silver"))),
)
VALID = {
    "sf_FirstName": "Ada",
    "sf_LastName": "Lovelace",
    "sf_Email": "ada@example.com",
}


def validate(app: Flask, data: dict[str, str]) -> object:
    form_class = build_attendee_form(SPECS)
    with app.test_request_context():
        token_form = form_class(meta={"csrf_context": "test"})
        form = form_class(
            MultiDict({"form_token": token_form.form_token.current_token, **data}),
            meta={"csrf_context": "test"},
        )
        form.validate()
        return form


@pytest.fixture
def app() -> Flask:
    application = Flask(__name__)
    application.config.update(SECRET_KEY="form-test-secret", FORM_TOKEN_MAX_AGE=60)
    return application


@pytest.mark.parametrize(
    ("settings", "kind"),
    [
        ({}, "text"),
        ({"fixed": FixedField.EMAIL}, "email"),
        ({"options": (("A", "a"),)}, "picklist"),
        ({"is_hidden": True}, "hidden"),
        ({"is_hidden": True, "options": (("A", "a"),)}, "hidden"),
    ],
)
def test_field_kind_follows_the_definition(
    settings: dict[str, object], kind: str
) -> None:
    assert field_kind(spec("Some Field", **settings)) == kind


def test_fields_follow_the_list_order(app: Flask) -> None:
    form = validate(app, VALID)

    assert [field.name for field in form.attendee_fields()] == [
        "sf_FirstName",
        "sf_LastName",
        "sf_Email",
        "sf_Company",
        "sf_Region",
        "sf_LeadSource",
        "sf_Tier",
    ]


def test_answers_carry_values_and_defaults(app: Flask) -> None:
    form = validate(app, {**VALID, "sf_Region": "EMEA"})

    assert not form.errors
    answers = {answer.field: answer.value for answer in form.answers()}
    assert answers["Region"] == "EMEA"
    assert answers["Lead Source"] == "Web"
    assert answers["Tier"] == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"sf_FirstName": ""}, "sf_FirstName", "First Name is required."),
        ({"sf_FirstName": "   "}, "sf_FirstName", "First Name is required."),
        ({"sf_FirstName": "x" * 41}, "sf_FirstName", "at most 40 characters"),
        ({"sf_Email": "ada@"}, "sf_Email", "after the @-sign"),
        ({"sf_Email": "ada example.com"}, "sf_Email", "@"),
        ({"sf_Region": "APAC"}, "sf_Region", "Choose one of the options"),
        ({"sf_Tier": "platinum"}, "sf_Tier", "not one of the options"),
    ],
)
def test_invalid_values_get_a_message_on_their_field(
    app: Flask, data: dict[str, str], field: str, message: str
) -> None:
    form = validate(app, {**VALID, **data})

    assert message in " ".join(form[field].errors)


def test_a_missing_hidden_field_takes_its_default(app: Flask) -> None:
    form = validate(app, VALID)

    assert form["sf_LeadSource"].data == "Web"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Ada  ", "Ada"),
        ("Ad\x00a", "Ada"),
        ("Ada\tLovelace", "Ada Lovelace"),
        ("Ada\r\nLovelace", "Ada Lovelace"),
        ("Zo\u0065\u0308", "Zo\u00eb"),
        ("\u200b", ""),
        ("Ada\u202eecalevoL", "AdaecalevoL"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),
        (None, ""),
    ],
)
def test_clean_text_normalises_typed_text(typed: str | None, stored: str) -> None:
    assert clean_text(typed) == stored


@pytest.mark.parametrize(
    ("typed", "address", "key"),
    [
        ("ada@example.com", "ada@example.com", "ada@example.com"),
        ("  Ada@Example.COM ", "Ada@example.com", "ada@example.com"),
        (
            "ada+webinar@example.com",
            "ada+webinar@example.com",
            "ada+webinar@example.com",
        ),
        ("ada@bücher.de", "ada@xn--bcher-kva.de", "ada@xn--bcher-kva.de"),
    ],
)
def test_email_addresses_are_trimmed_normalised_and_keyed_without_case(
    typed: str, address: str, key: str
) -> None:
    parsed = parse_email(typed)

    assert (parsed.address, parsed.key) == (address, key)


@pytest.mark.parametrize(
    "typed", ["", "ada", "ada@", "@example.com", "ädä@example.com"]
)
def test_unusable_email_addresses_are_refused(typed: str) -> None:
    with pytest.raises(InvalidEmail):
        parse_email(typed)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ([("sf_LeadSource", "News")], {"leadsource": "News"}),
        ([("SF_LeadSource", "News")], {"leadsource": "News"}),
        ([("sf_Lead Source", "News")], {"leadsource": "News"}),
        ([("sf_", "x"), ("utm_source", "y"), ("lead", "z")], {}),
        ([("sf_Tier", "a"), ("sf_tier", "b")], {"tier": "a"}),
    ],
)
def test_read_prefill_keys_parameters_like_field_definitions(
    query: list[tuple[str, str]], expected: dict[str, str]
) -> None:
    assert read_prefill(query) == expected


def test_prefill_beats_the_default_and_bad_picklist_values_fall_back() -> None:
    values = initial_values(
        SPECS,
        {"leadsource": "Partner", "tier": "platinum", "region": "EMEA", "nope": "x"},
    )

    assert values["sf_LeadSource"] == "Partner"
    assert values["sf_Tier"] == ""
    assert values["sf_Region"] == "EMEA"
    assert "nope" not in str(values)


def test_token_binds_the_form_to_its_page(app: Flask) -> None:
    form_class = build_attendee_form(SPECS)
    with app.test_request_context():
        token = form_class(meta={"csrf_context": "register:A"}).form_token.current_token
        elsewhere = form_class(
            MultiDict({"form_token": token, **VALID}),
            meta={"csrf_context": "register:B"},
        )
        here = form_class(
            MultiDict({"form_token": token, **VALID}),
            meta={"csrf_context": "register:A"},
        )

        assert not elsewhere.validate()
        assert here.validate()
        assert here.submission_id


def test_each_shown_form_names_a_different_submission(app: Flask) -> None:
    form_class = build_attendee_form(SPECS)
    with app.test_request_context():
        tokens = {
            form_class(meta={"csrf_context": "x"}).form_token.current_token
            for _ in range(3)
        }

    assert len(tokens) == 3


def test_a_signed_token_without_a_submission_is_refused(app: Flask) -> None:
    from itsdangerous import URLSafeTimedSerializer

    form_class = build_attendee_form(SPECS)
    forged = URLSafeTimedSerializer(
        "form-test-secret", salt="portal.public-form"
    ).dumps({"page": "x"})
    with app.test_request_context():
        form = form_class(
            MultiDict({"form_token": forged, **VALID}), meta={"csrf_context": "x"}
        )

        assert not form.validate()
        assert "could not verify" in form.form_token.errors[0]


@pytest.mark.parametrize(
    "selected", ["", "AMER", 'Q&A "live" <b>'], ids=["none", "one", "escaped"]
)
def test_picklists_render_the_options_wtforms_would(app: Flask, selected: str) -> None:
    options = (
        ("Europe", "EMEA"),
        ("Americas", "AMER"),
        ("Q&A <sessions>", 'Q&A "live" <b>'),
        ("", "value only"),
    )
    form_class = build_attendee_form((spec("Region", options=options),))
    with app.test_request_context():
        field = form_class(
            MultiDict({"sf_Region": selected}), meta={"csrf_context": "test"}
        ).sf_Region

        rendered = str(field())
        expected = str(Select()(field))

    assert rendered == expected
    assert rendered.count("<option") == len(options) + 1
    # The chosen option, or else the placeholder.
    assert rendered.count(" selected ") == 1
