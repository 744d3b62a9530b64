"""`crm demo`: migrate, load demo data once, make sure an admin exists, print the login and serve."""

import secrets

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from users.models import User
from users.services import user_create


class Command(BaseCommand):
    help = "Prepare a demo installation (idempotent) and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=2000, help="How many demo contacts to create.")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args, scale, port, no_serve, **options):
        call_command("migrate", interactive=False, verbosity=0)
        login_file = settings.VAR_DIR / "demo-login.txt"
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            password = secrets.token_urlsafe(9)
            admin = user_create(
                actor=None,
                data={
                    "username": "admin",
                    "password": password,
                    "role": "admin",
                    "first_name": "Demo",
                    "last_name": "Admin",
                    "teams": ["Sales EMEA"],
                },
            )
            User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
            login_file.write_text(password)
            login_file.chmod(0o600)
        call_command("seed", scale=scale)
        password = (
            login_file.read_text().strip() if login_file.exists() else "(set earlier; see crm changepassword)"
        )
        url = f"http://127.0.0.1:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"  CRM demo ready at {url}"))
        self.stdout.write(f"  Sign in as:  admin / {password}")
        self.stdout.write("")
        if not no_serve:
            call_command("serve", port=port)
