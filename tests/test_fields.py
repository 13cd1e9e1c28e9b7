"""Field definitions: factory defaults, which list a form uses, copies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import (
    Event,
    EventSeries,
    FieldDefinition,
    FieldList,
    FieldScope,
    FixedField,
    Frequency,
    Role,
    User,
)
from portal.services.events import ensure_personal_rooms
from portal.services.fields import (
    FieldSpec,
    copy_list,
    effective_fields,
    effective_list,
    global_list,
    specs_for,
)


def effective_fields_of_scope(scope: FieldScope) -> tuple[FieldSpec, ...]:
    return specs_for(global_list(scope))


def test_a_new_site_has_the_default_fields_in_order(app: object) -> None:
    specs = effective_fields_of_scope(FieldScope.SCHEDULED)

    assert [
        (
            spec.display_name,
            spec.fixed,
            spec.is_required,
            spec.is_hidden,
            spec.default_value,
        )
        for spec in specs
    ] == [
        ("First Name", FixedField.FIRST_NAME, True, False, ""),
        ("Last Name", FixedField.LAST_NAME, True, False, ""),
        ("Email", FixedField.EMAIL, True, False, ""),
        ("Company", FixedField.COMPANY, True, False, ""),
        ("Title", None, False, False, ""),
        ("Industry", None, False, False, ""),
        ("Lead Source", None, False, True, "Web"),
    ]
    industry = specs[5]
    assert industry.is_picklist
    assert ("Something else", "Other") in industry.options
    assert industry.lead_field == "Industry"


def test_each_scope_has_its_own_global_list(app: object) -> None:
    lists = {scope: global_list(scope) for scope in FieldScope}

    assert len({field_list.id for field_list in lists.values()}) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FieldList)) == 3


def test_max_length_comes_from_the_crm_fields(app: object) -> None:
    lengths = {
        spec.display_name: spec.max_length
        for spec in effective_fields_of_scope(FieldScope.SCHEDULED)
    }

    assert lengths == {
        "First Name": 40,
        "Last Name": 80,
        "Email": 80,
        "Company": 255,
        "Title": 128,
        "Industry": 255,
        "Lead Source": 255,
    }


def test_fixed_identity_fields_stay_required_and_visible_whatever_the_row_says(
    app: object,
) -> None:
    field_list = global_list(FieldScope.SCHEDULED)
    for definition in field_list.definitions:
        definition.is_required = False
        definition.is_hidden = True
    db.session.commit()

    specs = {
        spec.display_name: spec
        for spec in effective_fields_of_scope(FieldScope.SCHEDULED)
    }

    for name in ("First Name", "Last Name", "Email"):
        assert specs[name].is_required
        assert not specs[name].is_hidden
    assert not specs["Company"].is_required
    assert specs["Company"].is_hidden


def test_a_new_session_gets_its_own_copy_of_the_scheduled_defaults(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()
    event.field_list.definitions[4].display_name = "Job Title"
    db.session.commit()

    assert effective_list(event) is event.field_list
    assert [spec.display_name for spec in effective_fields(event)][4] == "Job Title"
    assert global_list(FieldScope.SCHEDULED).definitions[4].display_name == "Title"


def test_an_occurrence_without_a_copy_uses_its_series_then_the_global_list(
    make_event: Callable[..., Event],
) -> None:
    event = make_event()
    event.field_list = None
    db.session.commit()
    assert effective_list(event) is global_list(FieldScope.SCHEDULED)

    series = EventSeries(
        owner=event.owner, frequency=Frequency.WEEKLY, interval=1, occurrence_count=4
    )
    series.field_list = copy_list(global_list(FieldScope.SCHEDULED))
    event.series = series
    db.session.commit()

    assert effective_list(event) is series.field_list


def test_copy_keeps_order_options_and_settings(app: object) -> None:
    original = global_list(FieldScope.SCHEDULED)

    copy = copy_list(original)
    db.session.commit()

    def shape(field_list: FieldList) -> list[tuple[object, ...]]:
        return [
            (
                definition.position,
                definition.display_name,
                definition.param_key,
                definition.fixed,
                definition.contact_field,
                definition.lead_field,
                definition.is_required,
                definition.is_hidden,
                definition.default_value,
                [(option.label, option.value) for option in definition.options],
            )
            for definition in field_list.definitions
        ]

    assert copy.id != original.id
    assert copy.global_scope is None
    assert shape(copy) == shape(original)


def test_rooms_use_their_own_scope(make_user: Callable[..., User]) -> None:
    host = make_user(role=Role.HOST)
    meeting_room, support_room = ensure_personal_rooms(host)

    assert effective_list(meeting_room).global_scope is FieldScope.MEETING_ROOM
    assert effective_list(support_room).global_scope is FieldScope.SUPPORT_ROOM


def test_a_list_cannot_hold_two_fields_with_one_prefill_parameter(app: object) -> None:
    field_list = global_list(FieldScope.SCHEDULED)
    field_list.definitions.append(
        FieldDefinition(
            position=99, display_name="Lead  source", param_key="leadsource"
        )
    )

    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def statements_while(action: Callable[[], object]) -> list[str]:
    """The SQL statements run while ``action`` runs."""
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    return statements


def fresh_global_list(scope: FieldScope) -> FieldList:
    """The list as a new request loads it: a fresh session, nothing loaded yet."""
    db.session.remove()
    return global_list(scope)


def test_a_list_snapshot_is_reused_until_the_list_changes(app: object) -> None:
    first = specs_for(fresh_global_list(FieldScope.SCHEDULED))
    field_list = fresh_global_list(FieldScope.SCHEDULED)

    reads = statements_while(lambda: specs_for(field_list))

    assert reads == []
    assert specs_for(field_list) == first

    # Changed behind the services' back: the version rises all the same.
    version = field_list.version
    title = next(d for d in field_list.definitions if d.display_name == "Title")
    title.default_value = "Engineer"
    db.session.commit()
    changed = specs_for(fresh_global_list(FieldScope.SCHEDULED))

    assert fresh_global_list(FieldScope.SCHEDULED).version == version + 1
    assert {spec.display_name: spec for spec in changed}["Title"].default_value == (
        "Engineer"
    )


@pytest.mark.parametrize("change", ["definition", "option", "removal", "unflushed"])
def test_every_change_to_a_list_shows_in_its_snapshot(app: object, change: str) -> None:
    specs_for(fresh_global_list(FieldScope.SCHEDULED))
    field_list = fresh_global_list(FieldScope.SCHEDULED)
    version = field_list.version
    industry = next(d for d in field_list.definitions if d.display_name == "Industry")

    if change == "definition":
        industry.is_required = True
    elif change == "option":
        industry.options[0].label = "Farming"
    else:
        field_list.definitions.remove(industry)
    if change != "unflushed":
        db.session.commit()
        field_list = fresh_global_list(FieldScope.SCHEDULED)
    specs = {spec.display_name: spec for spec in specs_for(field_list)}

    expected_version = version if change == "unflushed" else version + 1
    assert field_list.version == expected_version
    if change == "definition":
        assert specs["Industry"].is_required
    elif change == "option":
        assert specs["Industry"].options[0][0] == "Farming"
    else:
        assert "Industry" not in specs
