"""Forms for signing in and the settings pages. They collect input; users.services validates and writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import CustomField

from .models import Team, User
from .services import OBJECT_TYPES


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput())


class PasswordForm(forms.Form):
    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 8 characters; not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password, again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Zapier, nightly import")}),
    )


def _team_choices():
    return [(t.name, t.name) for t in Team.objects.order_by("name")]


class UserForm(forms.Form):
    """Create (with username and an optional password) or edit a user (admins only)."""

    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False, widget=forms.EmailInput())
    role = forms.ChoiceField(
        label=_("Role"),
        choices=User.Role.choices,
        help_text=_(
            "Admins manage everything; managers see their teams’ records; read-only users change nothing."
        ),
    )
    teams = forms.MultipleChoiceField(label=_("Teams"), required=False, widget=forms.CheckboxSelectMultiple)
    new_teams = forms.CharField(
        label=_("New teams"),
        required=False,
        help_text=_("Comma separated; created if they do not exist."),
    )
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Deactivated users cannot sign in.")
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        required=False,
        help_text=_("Leave empty to keep the current password (or, for a new user, to set one later)."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, instance: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance = instance
        self.fields["teams"].choices = _team_choices()
        if instance is not None:
            del self.fields["username"]
            self.initial.update(
                {
                    "first_name": instance.first_name,
                    "last_name": instance.last_name,
                    "email": instance.email,
                    "role": instance.role,
                    "teams": [t.name for t in instance.teams.all()],
                    "is_active": instance.is_active,
                }
            )
        else:
            del self.fields["is_active"]
            self.initial["role"] = User.Role.MEMBER

    def to_data(self) -> dict:
        cleaned = self.cleaned_data
        teams = list(cleaned.get("teams") or [])
        teams += [t.strip() for t in (cleaned.get("new_teams") or "").split(",") if t.strip()]
        data = {
            "first_name": cleaned["first_name"],
            "last_name": cleaned["last_name"],
            "email": cleaned["email"],
            "role": cleaned["role"],
            "teams": list(dict.fromkeys(teams)),
        }
        if self.instance is None:
            data["username"] = cleaned["username"]
            if cleaned.get("password"):
                data["password"] = cleaned["password"]
        else:
            data["is_active"] = cleaned.get("is_active", False)
        return data


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100, required=False)


class CustomFieldForm(forms.Form):
    object_type = forms.ChoiceField(label=_("Record type"), choices=list(OBJECT_TYPES.items()))
    label = forms.CharField(label=_("Label"), max_length=100, required=False)
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_("Used in filters and the API. Leave empty to derive it from the label."),
    )
    field_type = forms.ChoiceField(label=_("Type"), choices=CustomField.FieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("For choice fields: the options, separated by commas."),
    )
    help_text = forms.CharField(label=_("Help text"), max_length=200, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    show_in_list = forms.BooleanField(label=_("Show as a column in lists"), required=False)
