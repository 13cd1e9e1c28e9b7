"""Editing field lists: what admins and hosts change about the forms' fields.

A list belongs to a global scope (the defaults) or to a session or room. A session or
room that has no list of its own (an occurrence of a series, a personal room) gets a
copy of the list it uses at its first change, so the change never reaches the series,
the defaults or anyone else's forms. Every change raises the list's version and is
committed at once, so the next form built from the list shows it.
"""

from __future__ import annotations

import enum
import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from portal.crm import get_crm
from portal.crm.fields import UNKNOWN_FIELD_LENGTH, CrmField
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import (
    Event,
    EventSeries,
    FieldDefinition,
    FieldList,
    FieldOption,
    FieldScope,
    RoomKind,
    RuleObject,
    User,
)
from portal.models.field import param_key_for
from portal.services.fields import copy_list, effective_list, global_list

logger = logging.getLogger(__name__)

#: Who a list belongs to: a global scope (its defaults), or a session or room.
ListOwner = FieldScope | Event

DISPLAY_NAME_LENGTH = 80
#: The columns that store defaults and options hold this much.
VALUE_LENGTH = 255
MAX_OPTIONS = 500
#: Characters that would break a hand-written prefill link (``?sf_A&B=...``).
#: Besides letters, digits and spaces, the characters a display name may hold: the
#: prefill parameter is made from it, so it must read well in an address.
NAME_PUNCTUATION = "-_.'’()/"
POSITION_STEP = 10


class Direction(enum.Enum):
    """Where a field moves in its list."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class FieldValues:
    """What a person enters for one field definition."""

    display_name: str
    contact_field: str = ""
    lead_field: str = ""
    is_required: bool = False
    is_hidden: bool = False
    #: Prefilled only from links the tracked-link builder signed (hidden fields).
    is_locked: bool = False
    default_value: str = ""
    #: One option a line: ``Shown text = stored value`` or just ``value``.
    options_text: str = ""


class ListOrigin(enum.Enum):
    """Where the list a session or room uses comes from."""

    OWN = "own"
    SERIES = "series"
    DEFAULTS = "defaults"


class ResetKind(enum.Enum):
    """What *Reset to defaults* does to a session or room."""

    #: A session: its list is replaced by a fresh copy of its scope's defaults.
    FRESH_COPY = "fresh_copy"
    #: An occurrence: its own list goes; it uses its series' list again.
    FOLLOW_SERIES = "follow_series"
    #: A room (or an occurrence of a series without a list): its own list goes; it
    #: uses the scope's defaults, later changes to them included.
    FOLLOW_DEFAULTS = "follow_defaults"


@dataclass(frozen=True, slots=True)
class ResetPlan:
    """What resetting a session's or room's fields will do, for the confirmation."""

    kind: ResetKind
    #: The list the event copies or uses afterwards.
    source: FieldList
    has_own_list: bool

    @property
    def changes_anything(self) -> bool:
        """Whether there is anything to reset."""
        return self.has_own_list or self.kind is ResetKind.FRESH_COPY


# Reading


def shown_list(owner: ListOwner) -> FieldList:
    """The list a page shows: a scope's defaults, or the list an event uses now."""
    if isinstance(owner, FieldScope):
        return global_list(owner)
    return effective_list(owner)


def list_origin(event: Event) -> ListOrigin:
    """Whether an event uses its own list, its series' or its scope's defaults."""
    if event.field_list is not None:
        return ListOrigin.OWN
    if event.series is not None and event.series.field_list is not None:
        return ListOrigin.SERIES
    return ListOrigin.DEFAULTS


def definition_in(owner: ListOwner, definition_id: int) -> FieldDefinition | None:
    """The definition with this id in the list ``owner`` shows, or None."""
    return next(
        (
            definition
            for definition in shown_list(owner).definitions
            if definition.id == definition_id
        ),
        None,
    )


def crm_field_choices(target: RuleObject) -> list[CrmField]:
    """The CRM fields of ``target`` a form field may write to (text-like), by label."""
    return sorted(
        (field for field in get_crm().fields(target).values() if field.type.is_text),
        key=lambda field: (field.label.casefold(), field.name),
    )


def options_text(definition: FieldDefinition) -> str:
    """A definition's picklist options as they are typed: one a line."""
    return "\n".join(
        option.value
        if option.label == option.value
        else f"{option.label} = {option.value}"
        for option in definition.options
    )


def parse_options(text: str) -> tuple[tuple[str, str], ...]:
    """(shown text, stored value) pairs from one option a line; blank lines skipped.

    A line is ``Shown text = stored value`` (split at the first ``=``) or just a
    value, shown as it is stored.
    """
    options: list[tuple[str, str]] = []
    seen_labels: set[str] = set()
    seen_values: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        label, separator, value = " ".join(line.split()).partition("=")
        label, value = label.strip(), value.strip()
        if not separator:
            value = label
        if not label and not separator:
            continue
        if not label or not value:
            raise ValidationFailed(
                f"Line {number}: write “Shown text = stored value”, or just the value.",
                "options",
            )
        if len(label) > VALUE_LENGTH or len(value) > VALUE_LENGTH:
            raise ValidationFailed(
                f"Line {number}: an option can be at most {VALUE_LENGTH} characters.",
                "options",
            )
        if value.casefold() in seen_values:
            raise ValidationFailed(
                f"Line {number}: the stored value “{value}” is listed twice.", "options"
            )
        if label.casefold() in seen_labels:
            raise ValidationFailed(
                f"Line {number}: the shown text “{label}” is listed twice.", "options"
            )
        seen_labels.add(label.casefold())
        seen_values.add(value.casefold())
        options.append((label, value))
    if len(options) > MAX_OPTIONS:
        raise ValidationFailed(
            f"A picklist can have at most {MAX_OPTIONS} options.", "options"
        )
    return tuple(options)


def describe_reset(event: Event) -> ResetPlan:
    """What *Reset to defaults* would do to this session's or room's fields."""
    defaults = global_list(event.field_scope)
    series_list = event.series.field_list if event.series is not None else None
    if event.is_room:
        kind, source = ResetKind.FOLLOW_DEFAULTS, defaults
    elif series_list is not None:
        kind, source = ResetKind.FOLLOW_SERIES, series_list
    elif event.series is not None:
        kind, source = ResetKind.FOLLOW_DEFAULTS, defaults
    else:
        kind, source = ResetKind.FRESH_COPY, defaults
    return ResetPlan(
        kind=kind, source=source, has_own_list=event.field_list is not None
    )


def rooms_with_own_list(scope: FieldScope) -> list[Event]:
    """The personal rooms of a room scope that have a field list of their own."""
    if scope is FieldScope.SCHEDULED:
        return []
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(
                Event.room_kind == RoomKind(scope.value),
                Event.field_list_id.is_not(None),
            )
            .order_by(Event.id)
        )
    )


# Changing


def add_field(owner: ListOwner, values: FieldValues, actor: User) -> FieldDefinition:
    """Add a field at the end of the owner's list."""
    checked = _checked(values, shown_list(owner), editing=None)

    field_list = _list_to_change(owner)
    last = max(
        (definition.position for definition in field_list.definitions), default=0
    )
    definition = FieldDefinition(position=last + POSITION_STEP, fixed=None)
    _apply(definition, checked)
    field_list.definitions.append(definition)
    _changed(field_list)

    _commit()
    logger.info(
        "%s added the field %r to %s",
        actor.email,
        definition.display_name,
        _name(owner),
    )
    return definition


def edit_field(
    owner: ListOwner, definition: FieldDefinition, values: FieldValues, actor: User
) -> FieldDefinition:
    """Change a field's name, CRM mapping, behaviour, default and options."""
    checked = _checked(values, shown_list(owner), editing=definition)

    field_list = _list_to_change(owner)
    definition = _counterpart(field_list, definition)
    _apply(definition, checked)
    _changed(field_list)

    _commit()
    logger.info(
        "%s changed the field %r of %s",
        actor.email,
        definition.display_name,
        _name(owner),
    )
    return definition


def move_field(
    owner: ListOwner, definition: FieldDefinition, direction: Direction, actor: User
) -> None:
    """Move a field one place up or down; positions become 10, 20, 30..."""
    ordered = _ordered(shown_list(owner))
    index = ordered.index(definition)
    target = index - 1 if direction is Direction.UP else index + 1
    if not 0 <= target < len(ordered):
        where = "first" if direction is Direction.UP else "last"
        raise ValidationFailed(f"{definition.display_name} is already {where}.")

    field_list = _list_to_change(owner)
    ordered = _ordered(field_list)
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(field_list, ordered)
    _changed(field_list)

    _commit()
    logger.info(
        "%s moved the field %r %s in %s",
        actor.email,
        definition.display_name,
        direction.value,
        _name(owner),
    )


def delete_field(owner: ListOwner, definition: FieldDefinition, actor: User) -> None:
    """Remove a field from the list; the four fixed fields cannot be removed."""
    if definition.fixed is not None:
        raise ValidationFailed(
            f"{definition.display_name} is one of the four fields every form has; "
            "it cannot be deleted."
        )
    name = definition.display_name

    field_list = _list_to_change(owner)
    field_list.definitions.remove(_counterpart(field_list, definition))
    _renumber(field_list, _ordered(field_list))
    _changed(field_list)

    _commit()
    logger.info("%s deleted the field %r from %s", actor.email, name, _name(owner))


def reset_fields(event: Event, actor: User) -> ResetPlan:
    """Put a session's or room's fields back to the defaults (see ResetKind)."""
    plan = describe_reset(event)
    if not plan.changes_anything:
        return plan

    previous = event.field_list
    if plan.kind is ResetKind.FRESH_COPY:
        event.field_list = copy_list(plan.source)
    else:
        event.field_list = None
    if previous is not None:
        _discard(previous)

    _commit()
    logger.info(
        "%s reset the fields of %s (%s)", actor.email, _name(event), plan.kind.value
    )
    return plan


def lock_scope(scope: FieldScope, actor: User, *, reset_rooms: bool = False) -> int:
    """Lock a room scope's defaults: hosts can no longer change their rooms' lists.

    With ``reset_rooms``, rooms that have their own list go back to the defaults.
    Returns how many rooms were reset.
    """
    field_list = _room_scope_list(scope)
    field_list.is_locked = True
    field_list.version += 1
    rooms = rooms_with_own_list(scope) if reset_rooms else []
    for room in rooms:
        previous = room.field_list
        room.field_list = None
        if previous is not None:
            _discard(previous)

    _commit()
    logger.info(
        "%s locked the field defaults of %s (%d rooms reset)",
        actor.email,
        scope.value,
        len(rooms),
    )
    return len(rooms)


def unlock_scope(scope: FieldScope, actor: User) -> None:
    """Let hosts change their rooms' lists again."""
    field_list = _room_scope_list(scope)
    field_list.is_locked = False
    field_list.version += 1

    _commit()
    logger.info("%s unlocked the field defaults of %s", actor.email, scope.value)


# Rules


@dataclass(frozen=True, slots=True)
class _Checked:
    """Values that passed every rule, normalised."""

    display_name: str
    contact_field: str
    lead_field: str
    is_required: bool
    is_hidden: bool
    is_locked: bool
    default_value: str
    options: tuple[tuple[str, str], ...]


def _checked(
    values: FieldValues, field_list: FieldList, *, editing: FieldDefinition | None
) -> _Checked:
    """The values, normalised, if they make a valid field of ``field_list``."""
    fixed = editing.fixed if editing is not None else None
    others = [
        definition for definition in field_list.definitions if definition is not editing
    ]
    display_name = _checked_name(values.display_name, others)

    if fixed is not None and editing is not None:
        contact_field, lead_field = _kept_mapping(values, editing)
    else:
        contact_field = _checked_mapping(
            RuleObject.CONTACT, values.contact_field, others
        )
        lead_field = _checked_mapping(RuleObject.LEAD, values.lead_field, others)

    always_there = fixed is not None and fixed.is_always_required
    if always_there and not values.is_required:
        raise ValidationFailed(f"{display_name} is always required.", "is_required")
    if always_there and values.is_hidden:
        raise ValidationFailed(f"{display_name} is always shown.", "is_hidden")
    if values.is_locked and not values.is_hidden:
        raise ValidationFailed(
            "Only a hidden field can be locked: a visible one is typed by each person.",
            "is_locked",
        )

    options = parse_options(values.options_text)
    if options and always_there:
        raise ValidationFailed(
            f"{display_name} is typed by each person; it cannot be a picklist.",
            "options",
        )
    max_length = _max_length(contact_field, lead_field)
    too_long = next((value for _, value in options if len(value) > max_length), None)
    if too_long is not None:
        raise ValidationFailed(
            f"The stored value “{too_long}” is longer than the {max_length} characters "
            "the CRM field holds.",
            "options",
        )

    default_value = " ".join(values.default_value.split())
    if len(default_value) > max_length:
        raise ValidationFailed(
            f"The default can be at most {max_length} characters, what the CRM field "
            "holds.",
            "default_value",
        )
    default_value = _picklist_default(default_value, options)
    if values.is_hidden and values.is_required and not default_value:
        raise ValidationFailed(
            "A hidden required field needs a default value: nobody can type one.",
            "default_value",
        )
    return _Checked(
        display_name=display_name,
        contact_field=contact_field,
        lead_field=lead_field,
        is_required=values.is_required,
        is_hidden=values.is_hidden,
        is_locked=values.is_locked,
        default_value=default_value,
        options=options,
    )


def _is_name_character(character: str) -> bool:
    category = unicodedata.category(character)
    return category[0] in "LMN" or character == " " or character in NAME_PUNCTUATION


def _checked_name(raw: str, others: Sequence[FieldDefinition]) -> str:
    display_name = " ".join(raw.split())
    if not display_name:
        raise ValidationFailed("Enter a display name.", "display_name")
    if len(display_name) > DISPLAY_NAME_LENGTH:
        raise ValidationFailed(
            f"A display name can be at most {DISPLAY_NAME_LENGTH} characters.",
            "display_name",
        )
    unsafe = sorted(
        {character for character in display_name if not _is_name_character(character)}
    )
    if unsafe:
        raise ValidationFailed(
            f"A display name cannot contain {' '.join(unsafe)}: the prefill parameter "
            "is made from it. Use letters, digits, spaces and "
            f"{' '.join(NAME_PUNCTUATION)}",
            "display_name",
        )
    key = param_key_for(display_name)
    clash = next((other for other in others if other.param_key == key), None)
    if clash is not None:
        raise ValidationFailed(
            f"{clash.display_name} already uses the prefill parameter "
            f"{clash.param_name}; choose another name.",
            "display_name",
        )
    return display_name


def _kept_mapping(values: FieldValues, editing: FieldDefinition) -> tuple[str, str]:
    """A fixed field's CRM fields, which never change."""
    if values.contact_field != editing.contact_field:
        raise ValidationFailed(
            f"The contact field of {editing.display_name} cannot change.",
            "contact_field",
        )
    if values.lead_field != editing.lead_field:
        raise ValidationFailed(
            f"The lead field of {editing.display_name} cannot change.", "lead_field"
        )
    return editing.contact_field, editing.lead_field


def _checked_mapping(
    target: RuleObject, name: str, others: Sequence[FieldDefinition]
) -> str:
    form_field = "contact_field" if target is RuleObject.CONTACT else "lead_field"
    if not name:
        return ""
    if name not in {field.name for field in crm_field_choices(target)}:
        raise ValidationFailed(
            f"Choose a {target.label.lower()} field from the CRM's list.", form_field
        )
    for other in others:
        used = other.contact_field if target is RuleObject.CONTACT else other.lead_field
        if used == name:
            raise ValidationFailed(
                f"{other.display_name} already writes to the {target.label.lower()} "
                f"field {name}.",
                form_field,
            )
    return name


def _max_length(contact_field: str, lead_field: str) -> int:
    """The longest value every CRM field the field writes to (and our columns) hold."""
    crm = get_crm()
    lengths = [VALUE_LENGTH]
    for target, name in (
        (RuleObject.CONTACT, contact_field),
        (RuleObject.LEAD, lead_field),
    ):
        if name:
            field = crm.fields(target).get(name)
            lengths.append(field.length if field is not None else UNKNOWN_FIELD_LENGTH)
    return min(lengths)


def _picklist_default(default_value: str, options: Sequence[tuple[str, str]]) -> str:
    """A picklist's default as its stored value (its shown text is understood too)."""
    if not default_value or not options:
        return default_value
    if any(value == default_value for _, value in options):
        return default_value
    wanted = default_value.casefold()
    for label, value in options:
        if wanted in (value.casefold(), label.casefold()):
            return value
    raise ValidationFailed(
        "The default must be one of the options: write its stored value.",
        "default_value",
    )


# Storage


def _apply(definition: FieldDefinition, checked: _Checked) -> None:
    definition.display_name = checked.display_name
    definition.param_key = param_key_for(checked.display_name)
    definition.contact_field = checked.contact_field
    definition.lead_field = checked.lead_field
    definition.is_required = checked.is_required
    definition.is_hidden = checked.is_hidden
    definition.is_locked = checked.is_locked
    definition.default_value = checked.default_value
    current = tuple((option.label, option.value) for option in definition.options)
    if current != checked.options:
        definition.options = [
            FieldOption(position=position, label=label, value=value)
            for position, (label, value) in enumerate(checked.options, start=1)
        ]


def _list_to_change(owner: ListOwner) -> FieldList:
    """The list a change goes to: the defaults, or the event's own (made if needed)."""
    if isinstance(owner, FieldScope):
        return global_list(owner)
    if owner.field_list is None:
        # First change of an occurrence or a room that used another list: from now
        # on it has its own, and the series or the defaults stay as they were.
        owner.field_list = copy_list(effective_list(owner))
        db.session.flush()
        logger.info("Event %s got its own copy of its field list", owner.id)
    return owner.field_list


def _counterpart(field_list: FieldList, definition: FieldDefinition) -> FieldDefinition:
    """``definition`` itself, or its copy in ``field_list`` (same prefill key)."""
    if definition.field_list_id == field_list.id:
        return definition
    return next(
        candidate
        for candidate in field_list.definitions
        if candidate.param_key == definition.param_key
    )


def _ordered(field_list: FieldList) -> list[FieldDefinition]:
    return sorted(
        field_list.definitions,
        key=lambda definition: (definition.position, definition.id or 0),
    )


def _renumber(field_list: FieldList, ordered: list[FieldDefinition]) -> None:
    for index, definition in enumerate(ordered, start=1):
        definition.position = index * POSITION_STEP
    field_list.definitions = ordered


def _commit() -> None:
    """Commit; two people changing one list at the same moment get a message."""
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        raise ValidationFailed(
            "Someone else changed this list at the same moment; look at it again "
            "and repeat your change."
        ) from error


def _changed(field_list: FieldList) -> None:
    field_list.version += 1


def _discard(field_list: FieldList) -> None:
    """Delete an own copy nobody uses any more (never a global list)."""
    if field_list.global_scope is not None:
        return
    users = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Event)
            .where(Event.field_list_id == field_list.id)
        )
        or 0
    )
    users += (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EventSeries)
            .where(EventSeries.field_list_id == field_list.id)
        )
        or 0
    )
    if users == 0:
        db.session.delete(field_list)


def _room_scope_list(scope: FieldScope) -> FieldList:
    if scope is FieldScope.SCHEDULED:
        raise ValidationFailed(
            "Only the personal room defaults can be locked: every session has its "
            "own list already."
        )
    return global_list(scope)


def _name(owner: ListOwner) -> str:
    if isinstance(owner, FieldScope):
        return f"the {owner.value} defaults"
    return f"event {owner.id}"
