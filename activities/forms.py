"""The timeline's composer: one form for every kind; `to_data()` builds what activities.services validates
and `apply_service_errors()` puts its messages beside the fields."""

from __future__ import annotations

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.views import apply_errors
from core.visibility import role_of
from users.models import User

from .models import Activity

DATETIME = "%Y-%m-%dT%H:%M"
KIND_FIELDS = {
    "note": ["body", "occurred_at"],
    "call": ["direction", "outcome", "duration_minutes", "occurred_at", "body"],
    "meeting": ["subject", "starts_at", "ends_at", "location", "attendees", "body"],
    "email": ["direction", "subject", "from_address", "to", "cc", "occurred_at", "body"],
    "task": ["subject", "due_at", "priority", "assignee_id", "remind_at", "body"],
}
ALIASES = {"duration_seconds": "duration_minutes", "attendees": "attendees", "to": "to", "cc": "cc"}


def _when(label) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME),
    )


def _blank(choices) -> list:
    return [("", "—"), *choices]


def assignee_choices(user) -> list[tuple[str, str]]:
    people = User.objects.filter(is_active=True)
    role = role_of(user)
    if role == "manager":
        people = people.filter(Q(pk=user.pk) | Q(pk__in=user.managed_user_ids))
    elif role != "admin":
        people = people.filter(Q(pk=user.pk) | Q(teams__in=user.team_ids)).distinct()
    return [(str(u.pk), u.display_name) for u in people.order_by("first_name", "last_name", "username")]


class ComposerForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices, widget=forms.HiddenInput)
    subject = forms.CharField(
        label=_("Subject"), required=False, widget=forms.TextInput(attrs={"maxlength": 200})
    )
    body = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Write…")})
    )
    occurred_at = _when(_("When"))
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=_blank(Activity.Direction.choices)
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=_blank(Activity.Outcome.choices))
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, widget=forms.NumberInput(attrs={"min": 0})
    )
    starts_at = _when(_("Starts"))
    ends_at = _when(_("Ends"))
    location = forms.CharField(label=_("Location"), required=False)
    attendees = forms.CharField(
        label=_("Attendees"), required=False, help_text=_("E-mail addresses, separated by commas.")
    )
    from_address = forms.CharField(label=_("From"), required=False)
    to = forms.CharField(label=_("To"), required=False, help_text=_("Separate addresses with commas."))
    cc = forms.CharField(label=_("Cc"), required=False)
    due_at = _when(_("Due"))
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=Activity.Priority.choices, initial="normal"
    )
    assignee_id = forms.ChoiceField(label=_("Assignee"), required=False)
    remind_at = _when(_("Remind me"))

    def __init__(self, *args, user=None, kind: str = "note", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind if kind in KIND_FIELDS else "note"
        self.selected_kind = self.kind
        self.fields["assignee_id"].choices = assignee_choices(user) if user is not None else []
        if user is not None and not self.is_bound:
            self.initial.setdefault("assignee_id", str(user.pk))
        self.initial.setdefault("kind", self.kind)
        if self.kind in ("note",):
            self.fields["body"].label = _("Note")
        elif self.kind == "email":
            self.fields["body"].label = _("Message")

    def visible(self) -> list:
        return [self[name] for name in KIND_FIELDS[self.kind]]

    def to_data(self) -> dict:
        cleaned = self.cleaned_data
        data: dict = {"kind": self.kind}
        for name in KIND_FIELDS[self.kind]:
            value = cleaned.get(name)
            if name == "duration_minutes":
                if value is not None:
                    data["duration_seconds"] = value * 60
            elif name in ("to", "cc"):
                data[name] = [v for v in re.split(r"[\s,;]+", value or "") if v]
            elif name == "attendees":
                data[name] = [{"email": v} for v in re.split(r"[\s,;]+", value or "") if v]
            elif value not in (None, ""):
                data[name] = value
        if self.kind in ("note", "email") and data.get("body"):
            data["body"] = "".join(
                f"<p>{_escape(p)}</p>" for p in re.split(r"\n\s*\n", data["body"]) if p.strip()
            )
            data["body"] = data["body"].replace("\n", "<br>")
        return data

    def apply_service_errors(self, errors: dict) -> None:
        apply_errors(self, errors, ALIASES)


def _escape(text: str) -> str:
    from django.utils.html import escape

    return escape(text.strip())
