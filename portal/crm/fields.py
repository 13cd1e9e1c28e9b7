"""The Contact and Lead fields a form field can write to, with their lengths.

These are the built-in CRM's fields, named and sized as Salesforce's standard fields
are, so that a value the form accepts always fits the CRM it is sent to.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Length assumed for a field the catalogue does not know (a custom text field).
UNKNOWN_FIELD_LENGTH = 255


@dataclass(frozen=True, slots=True)
class CrmField:
    """One writable field of a CRM object."""

    name: str
    label: str
    length: int
    kind: str = "string"


def _catalogue(*fields: CrmField) -> dict[str, CrmField]:
    return {field.name: field for field in fields}


CONTACT_FIELDS = _catalogue(
    CrmField("FirstName", "First Name", 40),
    CrmField("LastName", "Last Name", 80),
    CrmField("Email", "Email", 80, "email"),
    CrmField("Title", "Title", 128),
    CrmField("Department", "Department", 80),
    CrmField("Phone", "Phone", 40, "phone"),
    CrmField("MobilePhone", "Mobile Phone", 40, "phone"),
    CrmField("LeadSource", "Lead Source", 255, "picklist"),
    CrmField("MailingStreet", "Mailing Street", 255),
    CrmField("MailingCity", "Mailing City", 40),
    CrmField("MailingState", "Mailing State/Province", 80),
    CrmField("MailingPostalCode", "Mailing Zip/Postal Code", 20),
    CrmField("MailingCountry", "Mailing Country", 80),
    CrmField("Description", "Description", 32000, "textarea"),
)

LEAD_FIELDS = _catalogue(
    CrmField("FirstName", "First Name", 40),
    CrmField("LastName", "Last Name", 80),
    CrmField("Email", "Email", 80, "email"),
    CrmField("Company", "Company", 255),
    CrmField("Title", "Title", 128),
    CrmField("Industry", "Industry", 255, "picklist"),
    CrmField("Phone", "Phone", 40, "phone"),
    CrmField("MobilePhone", "Mobile Phone", 40, "phone"),
    CrmField("LeadSource", "Lead Source", 255, "picklist"),
    CrmField("Rating", "Rating", 255, "picklist"),
    CrmField("Website", "Website", 255, "url"),
    CrmField("Street", "Street", 255),
    CrmField("City", "City", 40),
    CrmField("State", "State/Province", 80),
    CrmField("PostalCode", "Zip/Postal Code", 20),
    CrmField("Country", "Country", 80),
    CrmField("Description", "Description", 32000, "textarea"),
)


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
