"""The fields of the built-in CRM's objects: API names, labels, types and lengths.

They are named and sized as Salesforce's standard fields (plus a few custom fields a
webinar team typically adds, ending in ``__c``), so that a value the portal accepts
always fits the CRM it is sent to, whichever backend that is.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: Length assumed for a text field the catalogue does not know.
UNKNOWN_FIELD_LENGTH = 255


class FieldType(enum.Enum):
    """The kinds of value a CRM field holds."""

    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    PICKLIST = "picklist"
    TEXTAREA = "textarea"
    INTEGER = "integer"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_text(self) -> bool:
        """Whether the field holds text a form can type into."""
        return self in _TEXT_TYPES


_TEXT_TYPES = {
    FieldType.TEXT,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.PICKLIST,
    FieldType.TEXTAREA,
}


@dataclass(frozen=True, slots=True)
class CrmField:
    """One writable field of a CRM object."""

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    length: int = UNKNOWN_FIELD_LENGTH
    #: The built-in CRM's column that stores it.
    column: str = ""
    #: The only values a restricted picklist takes; empty for any value.
    options: tuple[str, ...] = ()


def _catalogue(*fields: CrmField) -> dict[str, CrmField]:
    return {field.name: field for field in fields}


def _text(
    name: str, label: str, length: int, column: str, type: FieldType = FieldType.TEXT
) -> CrmField:
    return CrmField(name, label, type, length, column)


_WEBINAR_PERSON_FIELDS = (
    CrmField(
        "Last_Webinar_Date__c",
        "Last Webinar Date",
        FieldType.DATE,
        0,
        "last_webinar_date",
    ),
    CrmField(
        "Webinars_Attended__c",
        "Webinars Attended",
        FieldType.INTEGER,
        0,
        "webinars_attended",
    ),
)

CONTACT_FIELDS = _catalogue(
    _text("FirstName", "First Name", 40, "first_name"),
    _text("LastName", "Last Name", 80, "last_name"),
    _text("Email", "Email", 80, "email", type=FieldType.EMAIL),
    _text("Title", "Title", 128, "title"),
    _text("Department", "Department", 80, "department"),
    _text("Phone", "Phone", 40, "phone", type=FieldType.PHONE),
    _text("MobilePhone", "Mobile Phone", 40, "mobile_phone", type=FieldType.PHONE),
    _text("LeadSource", "Lead Source", 255, "lead_source", type=FieldType.PICKLIST),
    _text("MailingStreet", "Mailing Street", 255, "mailing_street"),
    _text("MailingCity", "Mailing City", 40, "mailing_city"),
    _text("MailingState", "Mailing State/Province", 80, "mailing_state"),
    _text("MailingPostalCode", "Mailing Zip/Postal Code", 20, "mailing_postal_code"),
    _text("MailingCountry", "Mailing Country", 80, "mailing_country"),
    _text("Description", "Description", 32000, "description", type=FieldType.TEXTAREA),
    *_WEBINAR_PERSON_FIELDS,
)

LEAD_FIELDS = _catalogue(
    _text("FirstName", "First Name", 40, "first_name"),
    _text("LastName", "Last Name", 80, "last_name"),
    _text("Email", "Email", 80, "email", type=FieldType.EMAIL),
    _text("Company", "Company", 255, "company"),
    _text("Title", "Title", 128, "title"),
    _text("Industry", "Industry", 255, "industry", type=FieldType.PICKLIST),
    _text("Phone", "Phone", 40, "phone", type=FieldType.PHONE),
    _text("MobilePhone", "Mobile Phone", 40, "mobile_phone", type=FieldType.PHONE),
    _text("LeadSource", "Lead Source", 255, "lead_source", type=FieldType.PICKLIST),
    CrmField(
        "Status",
        "Lead Status",
        FieldType.PICKLIST,
        255,
        "status",
        options=(
            "Open - Not Contacted",
            "Working - Contacted",
            "Closed - Converted",
            "Closed - Not Converted",
        ),
    ),
    CrmField(
        "Rating", "Rating", FieldType.PICKLIST, 255, "rating", ("Hot", "Warm", "Cold")
    ),
    _text("Website", "Website", 255, "website", type=FieldType.URL),
    _text("Street", "Street", 255, "street"),
    _text("City", "City", 40, "city"),
    _text("State", "State/Province", 80, "state"),
    _text("PostalCode", "Zip/Postal Code", 20, "postal_code"),
    _text("Country", "Country", 80, "country"),
    _text("Description", "Description", 32000, "description", type=FieldType.TEXTAREA),
    *_WEBINAR_PERSON_FIELDS,
)

TASK_FIELDS = _catalogue(
    _text("Subject", "Subject", 255, "subject"),
    _text("Description", "Comments", 32000, "description", type=FieldType.TEXTAREA),
    _text("Status", "Status", 255, "status", type=FieldType.PICKLIST),
    _text("Priority", "Priority", 20, "priority", type=FieldType.PICKLIST),
    CrmField("ActivityDate", "Due Date", FieldType.DATE, 0, "activity_date"),
    CrmField("Start_Time__c", "Start Time", FieldType.DATETIME, 0, "started_at"),
    CrmField("End_Time__c", "End Time", FieldType.DATETIME, 0, "ended_at"),
    CrmField(
        "Duration_Minutes__c",
        "Duration (Minutes)",
        FieldType.INTEGER,
        0,
        "duration_minutes",
    ),
)

CAMPAIGN_MEMBER_FIELDS = _catalogue(
    _text("Status", "Status", 40, "status", type=FieldType.PICKLIST),
    CrmField(
        "Registered_At__c", "Registered At", FieldType.DATETIME, 0, "registered_at"
    ),
    CrmField("Joined_At__c", "Joined At", FieldType.DATETIME, 0, "joined_at"),
    CrmField("Left_At__c", "Left At", FieldType.DATETIME, 0, "left_at"),
    CrmField(
        "Minutes_Attended__c",
        "Minutes Attended",
        FieldType.INTEGER,
        0,
        "minutes_attended",
    ),
    CrmField(
        "Attendance_Score__c",
        "Attendance Score",
        FieldType.INTEGER,
        0,
        "attendance_score",
    ),
)

#: Task statuses and whether each one closes the task (puts it in history).
TASK_STATUSES: dict[str, bool] = {
    "Not Started": False,
    "In Progress": False,
    "Completed": True,
    "Waiting on someone else": False,
    "Deferred": False,
}
TASK_PRIORITIES = ("High", "Normal", "Low")
#: A lead created without a last name or a company gets this, as the CRM requires both.
NOT_PROVIDED = "[NotProvided]"
FEED_BODY_LENGTH = 10_000


def field_length(contact_field: str, lead_field: str) -> int:
    """The longest value that fits every CRM field a form field writes to."""
    lengths = [
        catalogue[name].length if name in catalogue else UNKNOWN_FIELD_LENGTH
        for catalogue, name in (
            (CONTACT_FIELDS, contact_field),
            (LEAD_FIELDS, lead_field),
        )
        if name
    ]
    return min(lengths, default=UNKNOWN_FIELD_LENGTH)


def fit(value: str, length: int) -> tuple[str, bool]:
    """``value`` cut to ``length`` characters at a word boundary; whether it was cut.

    The cut falls at the last space that keeps at least half the room; a value with no
    such space (one long word) is cut hard.
    """
    if len(value) <= length:
        return value, False
    room = value[: length + 1]
    space = room.rfind(" ")
    cut = room[:space] if space >= length // 2 else value[:length]
    return cut.rstrip(), True
