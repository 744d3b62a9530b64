"""Users, teams, roles and API tokens."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A group of users; records shared with a team are visible to its members and managers."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. `role` decides what they may see and change (see core.visibility)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MANAGER = "manager", _("Manager")
        MEMBER = "member", _("Member")
        READONLY = "readonly", _("Read-only")

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")

    class Meta:
        ordering = ["username"]

    @cached_property
    def team_ids(self) -> list[int]:
        return list(self.teams.values_list("id", flat=True))

    @cached_property
    def managed_user_ids(self) -> list[int]:
        """Users in the teams this user manages (managers manage every team they belong to)."""
        if self.role != self.Role.MANAGER or not self.team_ids:
            return [self.pk]
        ids = set(User.objects.filter(teams__in=self.team_ids).values_list("id", flat=True))
        ids.add(self.pk)
        return sorted(ids)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.is_superuser


class ApiToken(models.Model):
    """A bearer token for the API. Only a SHA-256 hash of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    """A failed sign-in, kept briefly to throttle guessing across every web process."""

    username = models.CharField(max_length=150, db_index=True)
    ip_address = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} at {self.created_at:%Y-%m-%d %H:%M}"
