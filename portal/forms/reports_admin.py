"""Forms of the registrants, queue and CRM pages: a search box."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SearchField
from wtforms.validators import Length


class SearchForm(FlaskForm):
    """Find people by email or name. A GET form: it changes nothing."""

    class Meta:
        csrf = False

    q = SearchField(
        "Search by email or name",
        validators=[Length(max=100, message="Use at most 100 characters.")],
        render_kw={"autocomplete": "off", "maxlength": 100},
    )

    @property
    def search(self) -> str:
        """The text to look for; empty when the box is empty or invalid."""
        if self.q.errors:
            return ""
        return (self.q.data or "").strip()
