"""The demo data: reproducible from its seed, valid, and created only once."""

from __future__ import annotations

import io

import phonenumbers
import pytest
from django.core.management import call_command

from contacts.models import Company, Contact, ContactEmail, ContactPhone
from contacts.seed import DEMO_USERNAMES, CompanyRef, DemoGenerator, DemoStaff, seed
from core.models import HistoryEntry, OutboxEvent
from core.search.models import SearchDocument
from users.models import Team, User

pytestmark = pytest.mark.django_db


def quiet(_text: str) -> None:
    pass


def staff() -> DemoStaff:
    return DemoStaff(
        by_team={"Sales EMEA": [(1, 1), (2, 3)], "Sales Americas": [(3, 1)], "Customer Success": [(4, 1)]},
        loner=5,
    )


def generate(seed_value: int) -> tuple[list[dict], list[dict]]:
    generator = DemoGenerator(seed_value, staff())
    companies = list(generator.companies(30))
    refs = [CompanyRef(i + 1, r.domain, r.country, r.size) for i, r in enumerate(generator.company_refs)]
    return companies, list(generator.contacts(300, refs))


def test_generator_is_reproducible():
    assert generate(7) == generate(7)
    assert generate(7) != generate(8)


def contents() -> list[tuple]:
    return list(
        Contact.objects.order_by("pk").values_list(
            "first_name",
            "last_name",
            "email",
            "phone",
            "job_title",
            "company__name",
            "owner__username",
            "team__name",
            "lifecycle_stage",
            "birthday",
        )
    )


def test_seed_is_reproducible_valid_and_idempotent():
    result = seed(scale=200, seed=11, password=None, log=quiet)
    assert result.created and (result.users, result.companies, result.contacts) == (10, 20, 200)
    assert Contact.objects.count() == 200 and Company.objects.count() == 20
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(DEMO_USERNAMES)
    assert not any(u.has_usable_password() for u in User.objects.all())
    assert sorted(Team.objects.values_list("name", flat=True)) == [
        "Customer Success",
        "Sales Americas",
        "Sales EMEA",
    ]
    assert (
        HistoryEntry.objects.filter(action="created", object_id__in=Contact.objects.values("pk")).count()
        >= 200
    )
    assert OutboxEvent.objects.filter(name="contact.created").count() == 200
    assert OutboxEvent.objects.filter(name="company.created").count() == 20
    assert SearchDocument.objects.filter(kind="contact").count() == 200
    assert SearchDocument.objects.filter(kind="company").count() == 20

    numbers = list(ContactPhone.objects.values_list("number", flat=True))
    numbers += [n for n in Company.objects.values_list("phone", flat=True) if n]
    assert numbers and all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in numbers)
    work = ContactEmail.objects.filter(label="work", contact__company__isnull=False).select_related(
        "contact__company"
    )
    assert work and all(e.email.endswith("@" + e.contact.company.domain) for e in work)
    assert all(e.email == e.email.lower() for e in ContactEmail.objects.all())
    assert Contact.objects.filter(owner__isnull=True).count() == 0
    stages = set(Contact.objects.values_list("lifecycle_stage", flat=True))
    assert {"lead", "customer", "subscriber"} <= stages
    first = contents()

    again = seed(scale=200, seed=11, password=None, log=quiet)
    assert not again.created and again.message == "demo data already present"
    assert Contact.objects.count() == 200 and User.objects.count() == 10

    # The same seed on an empty database gives the same data.
    Contact.objects.all().delete()
    Company.objects.all().delete()
    User.objects.all().delete()
    seed(scale=200, seed=11, password=None, log=quiet)
    assert contents() == first

    more = seed(scale=50, seed=11, force=True, password=None, log=quiet)
    assert more.created and (more.users, more.contacts) == (0, 50)
    assert Contact.objects.count() == 250 and User.objects.count() == 10
    assert contents()[200:] != first[:50]  # added data differs from the first run's


def test_seed_command_says_when_data_exists():
    out = io.StringIO()
    err = io.StringIO()
    call_command("seed", scale=30, no_passwords=True, stdout=out, stderr=err)
    assert "Created 10 users, 3 companies and 30 contacts" in out.getvalue()
    out = io.StringIO()
    call_command("seed", scale=30, stdout=out)
    assert "demo data already present" in out.getvalue()
    assert Contact.objects.count() == 30
