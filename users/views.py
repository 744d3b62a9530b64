"""Signing in and out, and the settings pages: profile, password, API tokens, and for admins users, teams
and custom fields. Every write goes through users.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import NotFoundError, ValidationError
from core.models import CustomField
from core.views import apply_errors, crm_view, error_messages, require_admin_page
from core.visibility import role_of

from . import services
from .forms import CustomFieldForm, LoginForm, PasswordForm, ProfileForm, TeamForm, TokenForm, UserForm
from .models import ApiToken, Team, User

NEW_TOKEN_SESSION_KEY = "crm_new_token"


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


# ---------------------------------------------------------------------------------------------------------
# Signing in and out


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request):
    if request.method != "POST" and request.user.is_authenticated:
        return redirect(_next_url(request))
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip()
        ip = _client_ip(request)
        if services.login_is_throttled(username=username, ip_address=ip):
            window = max(1, settings.CRM_LOGIN_FAILURE_WINDOW_SECONDS // 60)
            form.add_error(
                None,
                _("Too many failed sign-in attempts. Wait %(minutes)s minutes, then try again.")
                % {"minutes": window},
            )
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                services.login_failure_record(username=username, ip_address=ip)
                form.add_error(None, _("That user name and password do not match. Please try again."))
                status = 400
            else:
                services.login_success_record(username=username)
                auth_login(request, user)
                return redirect(_next_url(request))
    elif request.method == "POST":
        status = 400
    response = render(
        request,
        "users/login.html",
        {"form": form, "next": _next_url(request), "title": _("Sign in")},
        status=status,
    )
    if status == 429:
        response["Retry-After"] = str(settings.CRM_LOGIN_FAILURE_WINDOW_SECONDS)
    return response


@require_POST
def logout_view(request):
    auth_logout(request)
    messages.info(request, _("You have signed out."))
    return redirect(settings.LOGIN_URL)


# ---------------------------------------------------------------------------------------------------------
# Settings pages


def _settings_context(request, section: str, **extra) -> dict:
    is_admin = role_of(request.user) == "admin"
    sections = [
        ("profile", _("Profile"), reverse("users:settings"), "user"),
        ("tokens", _("API tokens"), reverse("users:tokens"), "key"),
    ]
    if is_admin:
        sections += [
            ("users", _("Users"), reverse("users:users"), "users"),
            ("teams", _("Teams"), reverse("users:teams"), "grid"),
            ("fields", _("Custom fields"), reverse("users:custom_fields"), "list"),
        ]
    return {
        "section": section,
        "sections": [
            {"key": k, "label": label, "url": url, "icon": icon} for k, label, url, icon in sections
        ],
        "is_admin": is_admin,
        "title": _("Settings"),
        **extra,
    }


@crm_view("GET", "POST")
def settings_profile(request):
    """Everyone sees their profile; admins can edit it (the services let only admins change user fields)."""
    user = request.user
    is_admin = role_of(user) == "admin"
    profile_form = ProfileForm(
        request.POST if request.method == "POST" and request.POST.get("_form") == "profile" else None,
        initial={"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
    )
    password_form = PasswordForm(
        request.POST if request.method == "POST" and request.POST.get("_form") == "password" else None
    )
    status = 200
    if request.method == "POST":
        which = request.POST.get("_form")
        if which == "profile":
            if not is_admin:
                require_admin_page(user)
            if profile_form.is_valid():
                try:
                    services.user_update(actor=user, user_id=user.pk, data=profile_form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(profile_form, exc.errors)
                    status = 400
                else:
                    messages.success(request, _("Saved your profile."))
                    return redirect("users:settings")
            else:
                status = 400
        elif which == "password":
            if password_form.is_valid():
                try:
                    services.user_set_password(
                        actor=user,
                        user_id=user.pk,
                        password=password_form.cleaned_data["password"],
                        current_password=password_form.cleaned_data["current_password"],
                    )
                except ValidationError as exc:
                    apply_errors(password_form, exc.errors)
                    status = 400
                else:
                    from django.contrib.auth import update_session_auth_hash

                    user.refresh_from_db()
                    update_session_auth_hash(request, user)
                    messages.success(request, _("Changed your password."))
                    return redirect("users:settings")
            else:
                status = 400
    context = _settings_context(
        request,
        "profile",
        profile_form=profile_form,
        password_form=password_form,
        can_edit_profile=is_admin,
        teams=list(user.teams.all()),
    )
    return render(request, "users/settings_profile.html", context, status=status)


@crm_view("GET", "POST")
def settings_tokens(request):
    user = request.user
    is_admin = role_of(user) == "admin"
    form = TokenForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, secret = services.token_create(actor=user, user=user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                apply_errors(form, exc.errors)
                status = 400
            else:
                # Shown once, on the next page load, then gone: only its hash is stored.
                request.session[NEW_TOKEN_SESSION_KEY] = {"id": token.pk, "secret": secret}
                return redirect("users:tokens")
        else:
            status = 400
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    tokens = ApiToken.objects.select_related("user").order_by("revoked_at", "-created_at")
    if not is_admin:
        tokens = tokens.filter(user=user)
    context = _settings_context(
        request, "tokens", form=form, tokens=list(tokens[:500]), new_token=new_token, show_owner=is_admin
    )
    return render(request, "users/settings_tokens.html", context, status=status)


@crm_view("POST")
def token_revoke(request, pk):
    token = services.token_revoke(actor=request.user, token_id=pk)
    messages.success(request, _("Revoked the token “%(name)s”.") % {"name": token.name or token.prefix})
    return redirect("users:tokens")


@crm_view("GET", "POST")
def settings_users(request):
    require_admin_page(request.user)
    form = UserForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = services.user_create(actor=request.user, data=form.to_data())
            except ValidationError as exc:
                apply_errors(form, exc.errors)
                status = 400
            else:
                messages.success(request, _("Created the user “%(name)s”.") % {"name": created.username})
                return redirect("users:users")
        else:
            status = 400
    users = User.objects.prefetch_related("teams").order_by("-is_active", "username")
    context = _settings_context(
        request, "users", form=form, users=list(users[:1000]), open_form=request.method == "POST"
    )
    return render(request, "users/settings_users.html", context, status=status)


@crm_view("GET", "POST")
def settings_user_edit(request, pk):
    require_admin_page(request.user)
    person = User.objects.filter(pk=pk).prefetch_related("teams").first()
    if person is None:
        raise NotFoundError()
    form = UserForm(request.POST if request.method == "POST" else None, instance=person)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.user_update(actor=request.user, user_id=person.pk, data=form.to_data())
                if form.cleaned_data.get("password"):
                    services.user_set_password(
                        actor=request.user, user_id=person.pk, password=form.cleaned_data["password"]
                    )
            except ValidationError as exc:
                apply_errors(form, exc.errors, {"is_active": "is_active"})
                status = 400
            else:
                messages.success(request, _("Saved “%(name)s”.") % {"name": person.username})
                return redirect("users:users")
        else:
            status = 400
    context = _settings_context(request, "users", form=form, person=person)
    return render(request, "users/settings_user_edit.html", context, status=status)


@crm_view("GET", "POST")
def settings_teams(request):
    require_admin_page(request.user)
    form = TeamForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(actor=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_errors(form, exc.errors)
            status = 400
        else:
            messages.success(request, _("Created the team “%(name)s”.") % {"name": team.name})
            return redirect("users:teams")
    teams = Team.objects.annotate(member_count=Count("members")).order_by("name")
    context = _settings_context(request, "teams", form=form, teams=list(teams))
    return render(request, "users/settings_teams.html", context, status=status)


@crm_view("GET", "POST")
def settings_custom_fields(request):
    require_admin_page(request.user)
    form = CustomFieldForm(
        request.POST if request.method == "POST" else None,
        initial={"object_type": request.GET.get("type", "")},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                field = services.custom_field_create(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc.errors)
                status = 400
            else:
                messages.success(request, _("Added the field “%(label)s”.") % {"label": field.label})
                return redirect(
                    reverse("users:custom_fields") + f"#type-{field.object_type.replace('.', '-')}"
                )
        else:
            status = 400
    definitions = list(CustomField.objects.all())
    groups = [
        {
            "object_type": key,
            "anchor": key.replace(".", "-"),
            "label": label,
            "fields": [d for d in definitions if d.object_type == key],
        }
        for key, label in services.OBJECT_TYPES.items()
    ]
    context = _settings_context(request, "fields", form=form, groups=groups, open_form=status != 200)
    return render(request, "users/settings_custom_fields.html", context, status=status)


@crm_view("POST")
def custom_field_delete(request, pk):
    try:
        services.custom_field_delete(actor=request.user, field_id=pk)
    except ValidationError as exc:
        for message in error_messages(exc.errors):
            messages.error(request, message)
    else:
        messages.success(request, _("Deleted the field. Values already stored stay on the records."))
    return redirect("users:custom_fields")
