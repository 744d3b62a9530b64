"""The bulk service behind seeding and import: everything `contact_create` writes, per row, in batches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from contacts import services
from contacts.bulk import EmailNormalizer, companies_bulk_create, contacts_bulk_create
from contacts.models import Address, Company, Contact, ContactEmail, ContactPhone, ContactRole, Tag
from contacts.queries import company_list, contact_list
from core.errors import PermissionDeniedError, ValidationError
from core.models import HistoryEntry, OutboxEvent
from core.normalize import email_normalize
from core.search.models import SearchDocument

pytestmark = pytest.mark.django_db


def history_of(model, object_id) -> list[HistoryEntry]:
    content_type = ContentType.objects.get_for_model(model)
    return list(HistoryEntry.objects.filter(content_type=content_type, object_id=object_id))


@pytest.fixture
def company(org):
    return services.company_create(
        actor=org.owner, data={"name": "Becker Logistik GmbH", "domain": "becker.de"}
    )


def test_rows_are_written_with_related_rows_history_events_and_search(org, company):
    rows = [
        {
            "first_name": " Maria ",
            "last_name": "Müller",
            "email": "Maria.Mueller@Becker.DE",
            "phone": "+49 151 23456789",
            "company_id": company.pk,
            "job_title": "Head of Sales",
            "tags": ["VIP", "vip", "trade-show-2025"],
            "addresses": [
                {"street": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "de"}
            ],
            "birthday": "1980-02-29",
            "lifecycle_stage": "customer",
            "source": "Trade show",
        },
        {
            "first_name": "Jean",
            "last_name": "Dupont",
            "emails": [{"email": "JEAN@exemple.fr", "label": "home"}, "jd@work.example.com"],
            "phones": ["+33 6 12 34 56 78", {"number": "+33612345678"}],
        },
        {"email": "only-an-address@example.org"},
    ]
    ids: list[int] = []
    created = contacts_bulk_create(actor=org.owner, rows=iter(rows), ids=ids)

    assert created == 3
    assert ids == sorted(ids) and Contact.objects.count() == 3
    maria, jean, anonymous = (Contact.objects.get(pk=pk) for pk in ids)
    assert (maria.first_name, maria.last_name, maria.job_title) == ("Maria", "Müller", "Head of Sales")
    assert maria.email == "maria.mueller@becker.de" and maria.phone == "+4915123456789"
    assert maria.birthday == dt.date(1980, 2, 29) and maria.lifecycle_stage == "customer"
    assert maria.company_id == company.pk
    assert (maria.owner_id, maria.team_id, maria.version) == (org.owner.pk, org.team_a.pk, 1)
    assert list(maria.phones.values_list("number", "raw", "label", "is_primary")) == [
        ("+4915123456789", "+49 151 23456789", "mobile", True)
    ]
    assert sorted(maria.tags.values_list("name", flat=True)) == ["VIP", "trade-show-2025"]
    assert list(maria.roles.values_list("company_id", "title", "is_primary")) == [
        (company.pk, "Head of Sales", True)
    ]
    assert list(maria.addresses.values_list("street", "city", "postal_code", "country", "is_primary")) == [
        ("Hauptstraße 1", "Berlin", "10115", "DE", True)
    ]
    assert list(jean.emails.values_list("email", "label", "is_primary")) == [
        ("jean@exemple.fr", "home", True),
        ("jd@work.example.com", "work", False),
    ]
    assert list(jean.phones.values_list("number", flat=True)) == ["+33612345678"]  # duplicates merged
    assert jean.lifecycle_stage == "lead" and jean.company_id is None
    assert anonymous.email == "only-an-address@example.org" and anonymous.first_name == ""

    assert ContactEmail.objects.count() == 4 and ContactPhone.objects.count() == 2
    assert Address.objects.filter(contact__isnull=False).count() == 1 and ContactRole.objects.count() == 1

    for pk in ids:
        (entry,) = history_of(Contact, pk)
        assert entry.action == "created" and entry.actor_id == org.owner.pk
    (entry,) = history_of(Contact, maria.pk)
    assert entry.changes["emails"] == [None, ["maria.mueller@becker.de"]]
    assert entry.changes["birthday"] == [None, "1980-02-29"]
    assert entry.changes["tags"] == [None, ["VIP", "trade-show-2025"]]

    events = list(OutboxEvent.objects.filter(name="contact.created").order_by("object_id"))
    assert [e.object_id for e in events] == ids
    assert {e.object_type for e in events} == {"contacts.contact"}
    assert {e.actor_id for e in events} == {org.owner.pk}
    assert events[0].payload["email"] == "maria.mueller@becker.de" and events[0].delivered_at is None

    assert set(SearchDocument.objects.filter(kind="contact").values_list("object_id", flat=True)) == set(ids)
    assert list(contact_list(org.owner, q="mull").values_list("pk", flat=True)) == [maria.pk]
    assert list(contact_list(org.owner, q="becker").values_list("pk", flat=True)) == [maria.pk]
    assert list(contact_list(org.owner, q="+49 1512 3456789").values_list("pk", flat=True)) == [maria.pk]
    assert list(contact_list(org.owner, q="JEAN@exemple.fr").values_list("pk", flat=True)) == [jean.pk]


def test_history_and_event_match_what_contact_create_writes(org, company):
    data = {
        "prefix": "Dr.",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "emails": [{"email": "Ada@Engines.example", "label": "work"}, "ada@home.example"],
        "phones": ["+44 20 7946 0958"],
        "company_id": company.pk,
        "job_title": "Analyst",
        "tags": ["newsletter", "VIP"],
        "addresses": [
            {"city": "London", "country": "GB"},
            {"city": "Paris", "country": "FR", "is_primary": True},
        ],
        "birthday": dt.date(1815, 12, 10),
        "source": "Referral",
        "team_id": 0,
    }
    one = services.contact_create(actor=org.owner, data=dict(data))
    ids: list[int] = []
    assert contacts_bulk_create(actor=org.owner, rows=[dict(data)], ids=ids) == 1
    (bulk_entry,) = history_of(Contact, ids[0])
    (single_entry,) = history_of(Contact, one.pk)
    assert bulk_entry.changes == single_entry.changes
    assert bulk_entry.action == single_entry.action and bulk_entry.actor_id == single_entry.actor_id
    single_event = OutboxEvent.objects.get(name="contact.created", object_id=one.pk)
    bulk_event = OutboxEvent.objects.get(name="contact.created", object_id=ids[0])
    assert {**bulk_event.payload, "id": one.pk} == single_event.payload
    bulk_contact = Contact.objects.get(pk=ids[0])
    assert services.contact_snapshot(bulk_contact) == {**services.contact_snapshot(one), "id": ids[0]}
    assert bulk_contact.team_id is None  # team_id 0: private, as in contact_create


def test_bad_rows_are_skipped_and_reported_good_rows_kept(org, company):
    hidden = services.company_create(actor=org.other, data={"name": "Not yours Ltd", "team_id": 0})
    rows = [
        {"first_name": "Good", "email": "good@example.com"},
        {"first_name": "Bad", "email": "not-an-address"},
        {"job_title": "Nameless"},
        {"first_name": "Phone", "phone": "+1 555"},
        {"first_name": "Hidden", "company_id": hidden.pk},
        "not an object",
        {"first_name": "Stage", "lifecycle_stage": "king"},
        {"first_name": "Owner", "owner_id": org.other.pk},
        {"first_name": "Also good", "company_id": company.pk, "tags": ["x"]},
        {"first_name": "Long", "last_name": "x" * 101},
    ]
    errors: list = []
    created = contacts_bulk_create(actor=org.owner, rows=rows, errors=errors, batch_size=4)

    assert created == 2
    assert [index for index, _ in errors] == [1, 2, 3, 4, 5, 6, 7, 9]
    messages = dict(errors)
    assert list(messages[1]) == ["email"]
    assert messages[2] == {"first_name": ["Give the contact a name, an e-mail address or a phone number."]}
    assert messages[3] == {"phone": ["This is not a possible phone number."]}
    assert messages[4] == {"company_id": ["No company with this id."]}
    assert messages[5] == {"__all__": ["Expected an object."]}
    assert list(messages[6]) == ["lifecycle_stage"]
    assert messages[7] == {"owner_id": ["You may assign records only to yourself or people in your teams."]}
    assert list(messages[9]) == ["last_name"]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Also good", "Good"]
    assert HistoryEntry.objects.filter(content_type=ContentType.objects.get_for_model(Contact)).count() == 2
    assert OutboxEvent.objects.filter(name="contact.created").count() == 2
    assert SearchDocument.objects.filter(kind="contact").count() == 2
    assert Tag.objects.filter(name="x").count() == 1


def test_batches_commit_in_order_and_report_progress(org, django_capture_on_commit_callbacks):
    seen: list[int] = []
    ids: list[int] = []
    with django_capture_on_commit_callbacks() as callbacks:
        created = contacts_bulk_create(
            actor=org.owner,
            rows=({"first_name": f"Person {i}"} for i in range(5)),
            batch_size=2,
            ids=ids,
            progress=seen.append,
        )
    assert created == 5 and seen == [2, 4, 5]
    assert list(Contact.objects.order_by("pk").values_list("first_name", flat=True)) == [
        f"Person {i}" for i in range(5)
    ]
    assert ids == list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    from core.events import _schedule_delivery

    # event delivery scheduled after each batch's commit
    assert [c for c in callbacks if c is _schedule_delivery] == [_schedule_delivery] * 3


def test_ids_continue_after_deleted_rows(org):
    first = services.contact_create(actor=org.owner, data={"first_name": "Gone"})
    Contact.objects.filter(pk=first.pk).delete()
    ids: list[int] = []
    contacts_bulk_create(actor=org.owner, rows=[{"first_name": "New"}], ids=ids)
    assert ids[0] > first.pk  # never reuses the id of a deleted record


def test_ownership_follows_the_actor_rights(org):
    rows = [
        {"first_name": "Default"},
        {"first_name": "For teammate", "owner_id": org.teammate.pk},
        {"first_name": "Other team", "team_id": org.team_b.pk},
        {"first_name": "Private", "team_id": 0},
    ]
    errors: list = []
    ids: list[int] = []
    assert contacts_bulk_create(actor=org.owner, rows=rows, errors=errors, ids=ids) == 3
    assert errors == [(2, {"team_id": ["You may share records only with your own teams."]})]
    assert list(Contact.objects.filter(pk__in=ids).order_by("pk").values_list("owner_id", "team_id")) == [
        (org.owner.pk, org.team_a.pk),
        (org.teammate.pk, org.team_a.pk),
        (org.owner.pk, None),
    ]
    with pytest.raises(PermissionDeniedError):
        contacts_bulk_create(actor=org.readonly, rows=[{"first_name": "No"}])
    assert Contact.objects.count() == 3


def test_owners_spread_in_turn_and_console_actor(org):
    ids: list[int] = []
    created = contacts_bulk_create(
        actor=None,
        rows=[{"first_name": str(i)} for i in range(4)],
        owner_ids=[org.owner.pk, org.other.pk],
        ids=ids,
    )
    assert created == 4
    assert list(Contact.objects.filter(pk__in=ids).order_by("pk").values_list("owner_id", "team_id")) == [
        (org.owner.pk, org.team_a.pk),
        (org.other.pk, org.team_b.pk),
        (org.owner.pk, org.team_a.pk),
        (org.other.pk, org.team_b.pk),
    ]
    assert {e.actor_id for e in HistoryEntry.objects.all() if e.object_id in ids} == {None}


def test_companies_bulk_create(org, company):
    rows = [
        {
            "name": "Nordwerk AG",
            "domain": "https://www.Nordwerk.de/about",
            "industry": "Manufacturing",
            "size": "51-200",
            "annual_revenue": "12500000.00",
            "currency": "eur",
            "phone": "+49 30 123456",
            "website": "https://www.nordwerk.de",
            "addresses": [{"city": "Berlin", "country": "DE"}],
            "tags": ["partner"],
            "parent_id": company.pk,
        },
        {"name": ""},
        {"name": "Bad money", "currency": "EU1", "annual_revenue": "-1"},
        {"name": "Orphan", "parent_id": 999999},
        {"name": "Small shop"},
    ]
    errors: list = []
    ids: list[int] = []
    assert companies_bulk_create(actor=org.owner, rows=rows, errors=errors, ids=ids) == 2
    assert [i for i, _ in errors] == [1, 2, 3]
    assert dict(errors)[2] == {
        "currency": ["Enter a three-letter currency code such as EUR."],
        "annual_revenue": ["Annual revenue cannot be negative."],
    }
    assert dict(errors)[3] == {"parent_id": ["No company with this id."]}
    nordwerk = Company.objects.get(pk=ids[0])
    assert (nordwerk.domain, nordwerk.currency, nordwerk.phone) == ("nordwerk.de", "EUR", "+4930123456")
    assert nordwerk.annual_revenue == Decimal("12500000.00") and nordwerk.parent_id == company.pk
    assert (nordwerk.owner_id, nordwerk.team_id) == (org.owner.pk, org.team_a.pk)
    assert list(nordwerk.tags.values_list("name", flat=True)) == ["partner"]
    assert Company.objects.get(pk=ids[1]).currency == "USD"

    single = history_of(Company, company.pk)[0].changes
    (entry,) = history_of(Company, ids[0])
    assert set(entry.changes) == set(single) | {
        "industry",
        "size",
        "annual_revenue",
        "phone",
        "website",
        "parent_id",
        "tags",
        "addresses",
    }
    assert entry.changes["annual_revenue"] == [None, "12500000.00"]
    event = OutboxEvent.objects.get(name="company.created", object_id=ids[0])
    assert event.payload == services.company_snapshot(nordwerk) | {"annual_revenue": "12500000.00"}
    assert list(company_list(org.owner, q="nordwerk").values_list("pk", flat=True)) == [ids[0]]


@pytest.mark.parametrize(
    "address",
    [
        "Maria.Mueller@Example.COM",
        "  plain@example.org ",
        "a+tag@sub.example.co.uk",
        "o'brien@example.com",
        'quoted"local"@example.com',
        "dots..twice@example.com",
        ".leading@example.com",
        "x@localhost",
        "x@[127.0.0.1]",
        "ünïcode@example.com",
        "user@bücher.example",
        "no-at-sign",
        "a@b",
        "x" * 65 + "@example.com",
        "user@" + "a" * 64 + ".com",
        "user@example..com",
        "postmaster@EXAMPLE.com",
        "",
    ],
)
def test_email_normalizer_agrees_with_email_normalize(address):
    normalizer = EmailNormalizer()
    for _ in range(2):  # cold and cached
        try:
            expected = email_normalize(address)
        except ValueError as exc:
            with pytest.raises(ValueError) as excinfo:
                normalizer(address)
            assert str(excinfo.value) == str(exc)
        else:
            assert normalizer(address) == expected


BAD_ROWS = [
    {"first_name": "A", "addresses": [{"city": "Berlin", "country": "XX"}]},
    {"first_name": "A", "addresses": [{"city": "x" * 101, "kind": "moon"}]},
    {"first_name": "A", "addresses": "Berlin"},
    {"first_name": "A", "emails": ["a@example.com", 5, "nope"]},
    {"first_name": "A", "phones": [{"number": "12"}], "tags": ["", "x" * 51]},
    {"first_name": "A", "birthday": "yesterday", "custom": {"unknown": 1}},
    {"first_name": "A", "company_id": "acme", "owner_id": True},
    {"first_name": "A", "roles": [{"company_id": 999999, "title": "CEO"}]},
]


@pytest.mark.parametrize("row", BAD_ROWS)
def test_errors_are_those_of_contact_create(org, row):
    with pytest.raises(ValidationError) as excinfo:
        services.contact_create(actor=org.owner, data=dict(row))
    errors: list = []
    assert contacts_bulk_create(actor=org.owner, rows=[dict(row)], errors=errors) == 0
    assert errors == [(0, excinfo.value.errors)]


def test_validating_in_a_second_process_gives_the_same_result(org, company):
    rows = [
        {"first_name": f"Person {i}", "email": f"P{i}@Example.com", "company_id": company.pk, "tags": ["t"]}
        for i in range(7)
    ]
    rows[3] = {"first_name": "Bad", "email": "nope"}

    def stored(ids):
        return list(
            Contact.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list("first_name", "email", "company_id", "owner_id", "team_id")
        )

    results = []
    for workers in (1, 2):
        errors: list = []
        ids: list[int] = []
        seen: list[int] = []
        created = contacts_bulk_create(
            actor=org.owner,
            rows=iter(rows),
            batch_size=3,
            errors=errors,
            ids=ids,
            progress=seen.append,
            workers=workers,
        )
        results.append((created, [i for i, _ in errors], seen, stored(ids)))
    assert results[0] == results[1]
    assert results[0][:3] == (6, [3], [3, 5, 6])


def test_a_failing_row_source_in_the_second_process_is_reported(org):
    def rows():
        yield {"first_name": "Fine"}
        raise KeyError("broken source")

    with pytest.raises(RuntimeError, match="broken source"):
        contacts_bulk_create(actor=org.owner, rows=rows(), batch_size=1, workers=2)
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Fine"]
