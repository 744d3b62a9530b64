"""`crm seed [--scale N] [--seed S] [--force] [--no-passwords]`: realistic, reproducible demo data."""

from __future__ import annotations

import resource
import sys

from django.core.management.base import BaseCommand, CommandError

from contacts.seed import DEFAULT_SCALE, DEFAULT_SEED, DEMO_PASSWORD, DEMO_USERS, seed


def _users_help() -> str:
    lines = []
    for username, first, last, role, team in DEMO_USERS:
        lines.append(f"{username} ({first} {last}, {role}, {team or 'no team'})")
    return "; ".join(lines)


class Command(BaseCommand):
    help = (
        "Create demo data: the teams Sales EMEA, Sales Americas and Customer Success, demo users "
        f"[{_users_help()}] who all sign in with the password '{DEMO_PASSWORD}' (or none with "
        "--no-passwords), about one company per ten contacts, and the contacts, in twelve countries. The "
        "admin account is not created here (`crm demo` does that). The same --seed and --scale give the same "
        "data. Runs once: when the demo users already own contacts it says 'demo data already present'; "
        "--force adds more. Progress goes to stderr; a million contacts take minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="How many contacts to create.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (reproducible data).")
        parser.add_argument("--force", action="store_true", help="Add more demo data even if some exists.")
        parser.add_argument(
            "--no-passwords", action="store_true", help="Create the demo users without a usable password."
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Rows per transaction.")

    def handle(self, *args, scale, seed: int, force, no_passwords, batch_size, **options):
        if scale < 0:
            raise CommandError("--scale must not be negative.")
        if batch_size < 1:
            raise CommandError("--batch-size must be positive.")
        result = seed_run(
            scale=scale,
            seed=seed,
            force=force,
            password=None if no_passwords else DEMO_PASSWORD,
            batch_size=batch_size,
        )
        if not result.created:
            self.stdout.write(result.message + " (use --force to add more)")
            return
        from commerce.seed import seed_commerce  # purchase history for the demo contacts

        seed_commerce(seed=seed, log=lambda text: print(text, file=sys.stderr, flush=True))
        from dedupe.seed import seed_duplicates  # a few near-duplicates for the Duplicates page

        seed_duplicates(seed=seed, log=lambda text: print(text, file=sys.stderr, flush=True))
        rate = result.contacts / result.seconds if result.seconds else 0
        peak = max(
            resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        peak /= 1024  # KB on Linux; the larger of this process and its validation process
        self.stdout.write(
            f"Created {result.users} users, {result.companies:,} companies and {result.contacts:,} contacts "
            f"in {result.seconds:.1f} s ({rate:,.0f} contacts/s overall, peak memory {peak:.0f} MB)."
        )


def seed_run(**kwargs):
    return seed(log=lambda text: print(text, file=sys.stderr, flush=True), **kwargs)
