"""Editing field lists: the rules, the order, own copies, resets and the lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import sqlalchemy as sa

from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    Event,
    EventSeries,
    FieldDefinition,
    FieldList,
    FieldOption,
    FieldScope,
    Frequency,
    Role,
    User,
)
from portal.services.events import ensure_personal_rooms
from portal.services.field_editing import (
    Direction,
    FieldValues,
    ListOrigin,
    ResetKind,
    add_field,
    delete_field,
    describe_reset,
    edit_field,
    list_origin,
    lock_scope,
    move_field,
    options_text,
    parse_options,
    reset_fields,
    rooms_with_own_list,
    unlock_scope,
)
from portal.services.fields import (
    INDUSTRY_OPTIONS,
    FieldSpec,
    effective_fields,
    effective_list,
    global_list,
    specs_for,
)

SCHEDULED = FieldScope.SCHEDULED


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.ADMIN, email="admin@example.com")


def names(field_list: FieldList) -> list[str]:
    return [definition.display_name for definition in field_list.definitions]


def definition_named(field_list: FieldList, name: str) -> FieldDefinition:
    return next(d for d in field_list.definitions if d.display_name == name)


def global_specs() -> tuple[FieldSpec, ...]:
    return specs_for(global_list(SCHEDULED))


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


REGION = FieldValues(
    display_name="Region",
    lead_field="State",
    options_text="Europe, Middle East, Africa = EMEA\nAmericas = AMER\nAPAC",
)


def test_adding_a_picklist_field_puts_it_last_with_its_options(
    admin: User,
) -> None:
    defaults = global_list(SCHEDULED)
    version = defaults.version

    definition = add_field(SCHEDULED, REGION, admin)

    assert names(defaults)[-1] == "Region"
    assert definition.position == defaults.definitions[-2].position + 10
    assert definition.param_key == "region"
    assert definition.param_name == "sf_Region"
    assert [(o.label, o.value) for o in definition.options] == [
        ("Europe, Middle East, Africa", "EMEA"),
        ("Americas", "AMER"),
        ("APAC", "APAC"),
    ]
    assert defaults.version == version + 1
    assert options_text(definition) == REGION.options_text


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (FieldValues(display_name="   "), "display_name", "Enter a display name."),
        (FieldValues(display_name="x" * 81), "display_name", "at most 80"),
        (FieldValues(display_name="lead  SOURCE"), "display_name", "sf_LeadSource"),
        (FieldValues(display_name="LeadSource"), "display_name", "sf_LeadSource"),
        (FieldValues(display_name="Terms & Conditions"), "display_name", "cannot"),
        (FieldValues(display_name="Discount %"), "display_name", "cannot"),
        (
            FieldValues(display_name="Shoe", contact_field="ShoeSize__c"),
            "contact_field",
            "from the CRM's list",
        ),
        (
            FieldValues(display_name="Visits", lead_field="Webinars_Attended__c"),
            "lead_field",
            "from the CRM's list",
        ),
        (
            FieldValues(display_name="Job", contact_field="Title"),
            "contact_field",
            "Title already writes to the contact field Title",
        ),
        (
            FieldValues(display_name="Surname", lead_field="LastName"),
            "lead_field",
            "Last Name already writes",
        ),
        (
            FieldValues(display_name="Size", options_text="S\nM\ns"),
            "options",
            "Line 3: the stored value “s” is listed twice.",
        ),
        (
            FieldValues(display_name="Size", options_text="Small = S\nSMALL = M"),
            "options",
            "shown text “SMALL” is listed twice",
        ),
        (
            FieldValues(display_name="Size", options_text="Small =\nM"),
            "options",
            "Line 1",
        ),
        (
            FieldValues(display_name="Size", options_text="= S"),
            "options",
            "Line 1",
        ),
        (
            FieldValues(display_name="Size", options_text="x" * 256),
            "options",
            "at most 255",
        ),
        (
            FieldValues(
                display_name="Size", options_text="\n".join(map(str, range(501)))
            ),
            "options",
            "at most 500 options",
        ),
        (
            FieldValues(display_name="Town", lead_field="City", options_text="x" * 41),
            "options",
            "longer than the 40 characters",
        ),
        (
            FieldValues(display_name="Size", options_text="S\nM", default_value="XL"),
            "default_value",
            "one of the options",
        ),
        (
            FieldValues(display_name="Town", lead_field="City", default_value="y" * 41),
            "default_value",
            "at most 40",
        ),
        (
            FieldValues(display_name="Note", default_value="z" * 256),
            "default_value",
            "at most 255",
        ),
        (
            FieldValues(display_name="Campaign", is_hidden=True, is_required=True),
            "default_value",
            "hidden required field needs a default",
        ),
    ],
)
def test_a_new_field_breaking_a_rule_is_refused_and_nothing_changes(
    admin: User, values: FieldValues, field: str, message: str
) -> None:
    defaults = global_list(SCHEDULED)
    before, version = names(defaults), defaults.version

    with pytest.raises(ValidationFailed) as refused:
        add_field(SCHEDULED, values, admin)

    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert names(defaults) == before
    assert defaults.version == version


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        # Names are tidied; the prefill key ignores case and spaces.
        (FieldValues(display_name="  Job   Level "), ("Job Level", "", "", "")),
        (
            FieldValues(display_name="Country", contact_field="MailingCountry"),
            ("Country", "MailingCountry", "", ""),
        ),
        # A picklist's default may name the shown text; the stored value is kept.
        (
            FieldValues(
                display_name="Size",
                options_text="Small = S\nLarge = L",
                default_value="large",
            ),
            ("Size", "", "", "L"),
        ),
        (
            FieldValues(
                display_name="Tag", is_hidden=True, is_required=True, default_value="Q3"
            ),
            ("Tag", "", "", "Q3"),
        ),
        # Non-text CRM fields are refused, text-like ones (a picklist too) are fine.
        (
            FieldValues(display_name="Status", lead_field="Status"),
            ("Status", "", "Status", ""),
        ),
    ],
)
def test_a_new_field_within_the_rules_is_stored_tidied(
    admin: User, values: FieldValues, stored: tuple[str, str, str, str]
) -> None:
    definition = add_field(SCHEDULED, values, admin)

    assert (
        definition.display_name,
        definition.contact_field,
        definition.lead_field,
        definition.default_value,
    ) == stored


@pytest.mark.parametrize(
    ("name", "changes", "field", "message"),
    [
        ("First Name", {"is_required": False}, "is_required", "always required"),
        ("Email", {"is_hidden": True}, "is_hidden", "always shown"),
        ("Last Name", {"options_text": "A\nB"}, "options", "cannot be a picklist"),
        ("Email", {"contact_field": "Title"}, "contact_field", "cannot change"),
        ("Company", {"lead_field": ""}, "lead_field", "cannot change"),
        ("Company", {"display_name": "Email"}, "display_name", "sf_Email"),
        (
            "Company",
            {"is_hidden": True, "is_required": True},
            "default_value",
            "needs a default",
        ),
    ],
)
def test_fixed_fields_keep_their_rules(
    admin: User, name: str, changes: dict[str, object], field: str, message: str
) -> None:
    definition = definition_named(global_list(SCHEDULED), name)
    values = replace(_values_of(definition), **changes)

    with pytest.raises(ValidationFailed) as refused:
        edit_field(SCHEDULED, definition, values, admin)

    assert refused.value.field == field
    assert message in refused.value.message


def test_company_may_be_hidden_and_optional_and_renamed(admin: User) -> None:
    defaults = global_list(SCHEDULED)
    company = definition_named(defaults, "Company")
    values = replace(
        _values_of(company),
        display_name="Organisation",
        is_required=False,
        is_hidden=True,
    )

    edit_field(SCHEDULED, company, values, admin)

    spec = next(spec for spec in global_specs() if spec.display_name == "Organisation")
    assert (spec.is_required, spec.is_hidden, spec.lead_field) == (
        False,
        True,
        "Company",
    )
    assert spec.param_name == "sf_Organisation"


def test_editing_keeps_a_field_its_own_name_and_replaces_its_options(
    admin: User,
) -> None:
    industry = definition_named(global_list(SCHEDULED), "Industry")
    values = replace(
        _values_of(industry),
        display_name="industry",
        options_text="Retail\nOther = Something else",
        default_value="Retail",
    )

    edit_field(SCHEDULED, industry, values, admin)

    spec = next(spec for spec in global_specs() if spec.param_key == "industry")
    assert spec.display_name == "industry"
    assert spec.options == (("Retail", "Retail"), ("Other", "Something else"))
    assert spec.default_value == "Retail"


def test_moving_swaps_neighbours_and_tidies_positions(admin: User) -> None:
    defaults = global_list(SCHEDULED)
    region = add_field(SCHEDULED, REGION, admin)
    version = defaults.version

    move_field(SCHEDULED, region, Direction.UP, admin)
    move_field(SCHEDULED, region, Direction.UP, admin)

    assert names(defaults) == [
        "First Name",
        "Last Name",
        "Email",
        "Company",
        "Title",
        "Region",
        "Industry",
        "Lead Source",
    ]
    assert [d.position for d in defaults.definitions] == [10 * n for n in range(1, 9)]
    assert defaults.version == version + 2
    assert [spec.display_name for spec in global_specs()][5] == "Region"


def test_fixed_fields_move_too(admin: User) -> None:
    defaults = global_list(SCHEDULED)

    move_field(SCHEDULED, definition_named(defaults, "Email"), Direction.UP, admin)

    assert names(defaults)[:3] == ["First Name", "Email", "Last Name"]


@pytest.mark.parametrize(
    ("name", "direction", "message"),
    [
        ("First Name", Direction.UP, "First Name is already first."),
        ("Lead Source", Direction.DOWN, "Lead Source is already last."),
    ],
)
def test_the_ends_of_the_list_do_not_move_further(
    admin: User, name: str, direction: Direction, message: str
) -> None:
    defaults = global_list(SCHEDULED)
    before = names(defaults)

    with pytest.raises(ValidationFailed, match=message):
        move_field(SCHEDULED, definition_named(defaults, name), direction, admin)

    assert names(defaults) == before


def test_deleting_removes_the_field_and_its_options(admin: User) -> None:
    defaults = global_list(SCHEDULED)
    definitions, options = count(FieldDefinition), count(FieldOption)

    delete_field(SCHEDULED, definition_named(defaults, "Industry"), admin)

    assert "Industry" not in names(defaults)
    assert count(FieldDefinition) == definitions - 1
    assert count(FieldOption) == options - len(INDUSTRY_OPTIONS)
    assert [d.position for d in defaults.definitions] == [10 * n for n in range(1, 7)]


@pytest.mark.parametrize("name", ["First Name", "Last Name", "Email", "Company"])
def test_the_four_fixed_fields_cannot_be_deleted(admin: User, name: str) -> None:
    defaults = global_list(SCHEDULED)

    with pytest.raises(ValidationFailed, match="cannot be deleted"):
        delete_field(SCHEDULED, definition_named(defaults, name), admin)

    assert name in names(defaults)


def test_a_session_change_stays_in_its_own_copy(
    admin: User, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    other = make_event()

    add_field(event, REGION, admin)

    assert "Region" in [s.display_name for s in effective_fields(event)]
    assert "Region" not in [s.display_name for s in effective_fields(other)]
    assert "Region" not in names(global_list(SCHEDULED))


def test_an_occurrence_gets_its_own_copy_at_its_first_change(
    admin: User, make_event: Callable[..., Event]
) -> None:
    first, second = make_event(), make_event()
    series = EventSeries(
        owner=first.owner, frequency=Frequency.WEEKLY, interval=1, occurrence_count=2
    )
    series.field_list = effective_list(first)
    first.field_list = second.field_list = None
    first.series = second.series = series
    db.session.commit()
    series_list = series.field_list
    assert list_origin(first) is ListOrigin.SERIES
    title = definition_named(series_list, "Title")

    edit_field(
        first, title, replace(_values_of(title), display_name="Job Title"), admin
    )

    assert list_origin(first) is ListOrigin.OWN
    assert first.field_list is not series_list
    assert names(first.field_list)[4] == "Job Title"
    assert names(series_list)[4] == "Title"
    assert effective_list(second) is series_list

    plan = reset_fields(first, admin)

    assert plan.kind is ResetKind.FOLLOW_SERIES
    assert first.field_list is None
    assert effective_list(first) is series_list
    assert series_list.definitions[4].display_name == "Title"


def test_a_room_follows_the_defaults_until_its_first_change(
    admin: User, make_user: Callable[..., User]
) -> None:
    meeting_room, _ = ensure_personal_rooms(make_user())
    db.session.commit()
    defaults = global_list(FieldScope.MEETING_ROOM)
    assert list_origin(meeting_room) is ListOrigin.DEFAULTS

    move_field(
        meeting_room,
        definition_named(defaults, "Lead Source"),
        Direction.UP,
        admin,
    )

    assert names(meeting_room.field_list)[-2:] == ["Lead Source", "Industry"]
    assert names(defaults)[-2:] == ["Industry", "Lead Source"]
    assert rooms_with_own_list(FieldScope.MEETING_ROOM) == [meeting_room]
    lists = count(FieldList)

    plan = reset_fields(meeting_room, admin)

    assert plan.kind is ResetKind.FOLLOW_DEFAULTS
    assert meeting_room.field_list is None
    assert effective_list(meeting_room) is defaults
    assert count(FieldList) == lists - 1


def test_resetting_a_session_gives_it_a_fresh_copy_of_the_defaults(
    admin: User, make_event: Callable[..., Event]
) -> None:
    event = make_event()
    delete_field(event, definition_named(event.field_list, "Title"), admin)
    add_field(SCHEDULED, REGION, admin)
    old_list_id = event.field_list.id

    plan = reset_fields(event, admin)

    assert plan.kind is ResetKind.FRESH_COPY
    assert event.field_list is not None
    assert event.field_list is not global_list(SCHEDULED)
    assert names(event.field_list) == names(global_list(SCHEDULED))
    assert db.session.get(FieldList, old_list_id) is None


def test_resetting_what_has_no_copy_changes_nothing(
    admin: User, make_user: Callable[..., User]
) -> None:
    meeting_room, _ = ensure_personal_rooms(make_user())
    db.session.commit()

    plan = describe_reset(meeting_room)
    reset_fields(meeting_room, admin)

    assert not plan.changes_anything
    assert meeting_room.field_list is None


def test_locking_a_room_scope_can_put_rooms_back_on_the_defaults(
    admin: User, make_user: Callable[..., User]
) -> None:
    rooms = [ensure_personal_rooms(make_user())[0] for _ in range(3)]
    db.session.commit()
    for room in rooms[:2]:
        add_field(room, REGION, admin)

    assert lock_scope(FieldScope.MEETING_ROOM, admin) == 0
    assert global_list(FieldScope.MEETING_ROOM).is_locked
    assert len(rooms_with_own_list(FieldScope.MEETING_ROOM)) == 2

    assert lock_scope(FieldScope.MEETING_ROOM, admin, reset_rooms=True) == 2
    assert rooms_with_own_list(FieldScope.MEETING_ROOM) == []
    assert not global_list(FieldScope.SUPPORT_ROOM).is_locked

    unlock_scope(FieldScope.MEETING_ROOM, admin)
    assert not global_list(FieldScope.MEETING_ROOM).is_locked


def test_a_simultaneous_change_is_refused_with_a_message(admin: User) -> None:
    defaults = global_list(SCHEDULED)
    before = names(defaults)
    # Another admin's "Region" lands after this one's rules were checked.
    db.session.execute(
        sa.insert(FieldDefinition).values(
            field_list_id=defaults.id,
            position=999,
            display_name="REGION",
            param_key="region",
            contact_field="",
            lead_field="",
            is_required=False,
            is_hidden=False,
            default_value="",
        )
    )

    with pytest.raises(ValidationFailed, match="at the same moment"):
        add_field(SCHEDULED, REGION, admin)

    db.session.expire_all()
    assert names(global_list(SCHEDULED)) == before


def test_the_scheduled_scope_has_no_lock(admin: User) -> None:
    with pytest.raises(ValidationFailed, match="Only the personal room defaults"):
        lock_scope(SCHEDULED, admin)

    assert not global_list(SCHEDULED).is_locked


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("", ()),
        ("\n  \n", ()),
        ("A", (("A", "A"),)),
        ("Shown = stored", (("Shown", "stored"),)),
        ("  Two   words  =  x  \n\nB", (("Two words", "x"), ("B", "B"))),
        ("a = b = c", (("a", "b = c"),)),
    ],
)
def test_options_are_read_one_a_line(
    text: str, options: tuple[tuple[str, str], ...]
) -> None:
    assert parse_options(text) == options


def _values_of(definition: FieldDefinition) -> FieldValues:
    return FieldValues(
        display_name=definition.display_name,
        contact_field=definition.contact_field,
        lead_field=definition.lead_field,
        is_required=definition.is_required,
        is_hidden=definition.is_hidden,
        default_value=definition.default_value,
        options_text=options_text(definition),
    )
