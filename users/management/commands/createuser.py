"""`crm createuser NAME --role admin|manager|member|readonly [--team TEAM] [--password PW]`."""

import secrets

from django.core.management.base import BaseCommand, CommandError

from core.errors import ValidationError
from users.models import User
from users.services import user_create


class Command(BaseCommand):
    help = "Create a user (and the team if it is new). Prints the password when one is generated."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=User.Role.values, default="member")
        parser.add_argument("--team", action="append", default=[], help="Team name; repeat for several.")
        parser.add_argument("--password", help="Generated and printed when omitted.")
        parser.add_argument("--email", default="")
        parser.add_argument("--if-missing", action="store_true", help="Do nothing if the user exists.")

    def handle(self, *args, username, role, team, password, email, if_missing, **options):
        if if_missing and User.objects.filter(username__iexact=username).exists():
            self.stderr.write(f"User {username} already exists.")
            return
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        try:
            user = user_create(
                actor=None,
                data={
                    "username": username,
                    "role": role,
                    "teams": team,
                    "password": password,
                    "email": email,
                },
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
        if role == "admin":
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        self.stdout.write(f"Created {role} {username}" + (f" with password {password}" if generated else ""))
