"""Near-duplicates for the demo data, so the Duplicates page has something to review after `crm demo`.

A few contacts get a second record the way duplicates arise in real life: a typo in the first name, the
e-mail address in capitals with a `+newsletter` alias, the phone number typed in national format. They are
created through the bulk service (history, events and search as any contact), then the duplicate-finding
job runs once. Reproducible for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import phonenumbers

from contacts.bulk import contacts_bulk_create
from contacts.models import Contact

from . import jobs

SHARE = 0.01  # one contact in a hundred gets a twin
MOST = 40


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # two neighbours swapped


def _national(number: str) -> str:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL).replace(" ", "-")


def seed_duplicates(*, seed: int, log: Callable[[str], None] = lambda _text: None) -> int:
    """Create the demo near-duplicates and run the duplicate-finding job; returns how many were made."""
    rng = random.Random(f"dedupe:{seed}")
    ids = list(
        Contact.objects.filter(archived_at__isnull=True)
        .exclude(email="")
        .exclude(first_name="")
        .order_by("id")
        .values_list("id", flat=True)
    )
    count = min(MOST, int(len(ids) * SHARE))
    rows = []
    for contact in Contact.objects.filter(pk__in=sorted(rng.sample(ids, count))):
        local, _, domain = contact.email.partition("@")
        data = {
            "first_name": _typo(rng, contact.first_name),
            "last_name": contact.last_name,
            "email": f"{local}+newsletter@{domain}".upper(),
            "owner_id": contact.owner_id,
            "source": "Web form",
        }
        if contact.phone:
            data["phone"] = _national(contact.phone)
        if contact.company_id:
            data["company_id"] = contact.company_id
        rows.append(data)
    errors: list = []
    made = contacts_bulk_create(actor=None, rows=rows, errors=errors)  # the system, like the seed itself
    log(f"  {made} demo near-duplicates; finding duplicates …")
    for kind in ("contact", "company"):
        jobs.run(kind)
    return made
