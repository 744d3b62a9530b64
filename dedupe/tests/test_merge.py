"""Merging contacts and companies: field winners, every related row moved, undo byte for byte, rights."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from contacts.models import Address, Company, Contact, ContactEmail, ContactPhone, ContactRole
from contacts.services import company_create, contact_create, contact_update
from core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from core.models import HistoryEntry, OutboxEvent
from dedupe import services
from dedupe.models import DuplicateGroup, DuplicateMember, Merge, MergedRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(org):
    acme = company_create(actor=org.owner, data={"name": "Acme", "domain": "acme.com"})
    globex = company_create(actor=org.owner, data={"name": "Globex", "domain": "globex.com"})
    survivor = contact_create(
        actor=org.owner,
        data={
            "first_name": "Anna",
            "last_name": "Müller",
            "emails": ["anna@acme.com", "shared@example.com"],
            "phones": ["+49 151 23456789"],
            "company_id": acme.pk,
            "tags": ["vip"],
            "addresses": [{"city": "Berlin", "country": "DE"}],
        },
    )
    other = contact_create(
        actor=org.owner,
        data={
            "first_name": "Anna",
            "last_name": "Mueller",
            "job_title": "CFO",
            "emails": ["a.mueller@globex.com", "shared@example.com"],
            "phones": ["+49 151 99999999"],
            "roles": [{"company_id": globex.pk, "title": "CFO"}, {"company_id": acme.pk, "title": "Adviser"}],
            "tags": ["vip", "newsletter"],
            "addresses": [{"city": "Hamburg", "country": "DE"}],
        },
    )
    return survivor, other, acme, globex


def test_merge_unites_related_rows_and_picks_winners(org, pair):
    survivor, other, acme, globex = pair
    merge = services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])

    survivor.refresh_from_db()
    other.refresh_from_db()
    # The survivor's primary e-mail is kept; the other's addresses are added, the shared one once.
    assert survivor.email == "anna@acme.com"
    emails = list(ContactEmail.objects.filter(contact=survivor).values_list("email", "is_primary"))
    assert sorted(emails) == [
        ("a.mueller@globex.com", False),
        ("anna@acme.com", True),
        ("shared@example.com", False),
    ]
    assert sorted(ContactPhone.objects.filter(contact=survivor).values_list("number", flat=True)) == [
        "+4915123456789",
        "+4915199999999",
    ]
    assert sorted(t.name for t in survivor.tags.all()) == ["newsletter", "vip"]
    assert sorted(Address.objects.filter(contact=survivor).values_list("city", flat=True)) == [
        "Berlin",
        "Hamburg",
    ]
    # Roles united without duplicates: survivor's Acme role kept, Globex moved, the other's Acme dropped.
    roles = sorted(ContactRole.objects.filter(contact=survivor).values_list("company_id", "is_primary"))
    assert roles == sorted([(acme.pk, False), (globex.pk, True)]) or roles == sorted(
        [(acme.pk, True), (globex.pk, False)]
    )
    # Most recent non-empty value wins: the other was created later and is the only one with a title.
    assert survivor.job_title == "CFO"
    assert survivor.company_id == other.company_id == globex.pk or survivor.company_id in {acme.pk, globex.pk}
    primary_role = ContactRole.objects.get(contact=survivor, is_primary=True)
    assert primary_role.company_id == survivor.company_id
    # Nothing is left on the absorbed record, which is archived and marked as merged.
    assert not ContactEmail.objects.filter(contact=other).exists()
    assert not ContactRole.objects.filter(contact=other).exists()
    assert other.archived_at is not None
    assert MergedRecord.objects.get(object_id=other.pk).survivor_id == survivor.pk
    # History on both sides and an outbox event.
    assert HistoryEntry.objects.filter(object_id=survivor.pk, action="merged").exists()
    assert HistoryEntry.objects.filter(object_id=other.pk, action="merged").exists()
    event = OutboxEvent.objects.get(name="contact.merged")
    assert event.payload["other_ids"] == [other.pk] and event.payload["merge_id"] == merge.pk


def test_field_choices_pick_the_named_record(org, pair):
    survivor, other, acme, _ = pair
    services.contacts_merge(
        actor=org.owner,
        survivor_id=survivor.pk,
        other_ids=[other.pk],
        field_choices={"last_name": other.pk, "job_title": survivor.pk, "company_id": survivor.pk},
    )
    survivor.refresh_from_db()
    assert survivor.last_name == "Mueller"
    assert survivor.job_title == ""
    assert survivor.company_id == acme.pk
    assert ContactRole.objects.get(contact=survivor, is_primary=True).company_id == acme.pk


def test_undo_restores_everything_byte_for_byte(org, pair, dump):
    survivor, other, _, _ = pair
    before = dump()
    merge = services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    assert dump() != before
    services.merge_undo(actor=org.owner, merge_id=merge.pk)
    assert dump() == before
    assert not MergedRecord.objects.exists()
    assert Merge.objects.get(pk=merge.pk).undone_at is not None
    assert OutboxEvent.objects.filter(name="contact.merge_undone").count() == 1
    with pytest.raises(ConflictError):
        services.merge_undo(actor=org.owner, merge_id=merge.pk)


def test_undo_refuses_when_the_survivor_changed_since(org, pair):
    survivor, other, _, _ = pair
    merge = services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    survivor.refresh_from_db()
    contact_update(
        actor=org.owner, contact_id=survivor.pk, data={"version": survivor.version, "job_title": "CEO"}
    )
    with pytest.raises(ConflictError):
        services.merge_undo(actor=org.owner, merge_id=merge.pk)
    assert Contact.objects.get(pk=survivor.pk).job_title == "CEO"
    assert MergedRecord.objects.filter(merge=merge).exists()


def test_company_merge_moves_contacts_children_roles_and_undo(org, dump):
    survivor = company_create(actor=org.owner, data={"name": "Acme GmbH", "domain": "acme.de"})
    other = company_create(actor=org.owner, data={"name": "ACME", "industry": "Tools", "tags": ["x"]})
    child = company_create(actor=org.owner, data={"name": "Acme Labs", "parent_id": other.pk})
    both = contact_create(
        actor=org.owner,
        data={"first_name": "Bo", "roles": [{"company_id": survivor.pk}, {"company_id": other.pk}]},
    )
    at_other = contact_create(actor=org.owner, data={"first_name": "Cy", "company_id": other.pk})
    before = dump()
    merge = services.companies_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    assert Contact.objects.get(pk=at_other.pk).company_id == survivor.pk
    assert Company.objects.get(pk=child.pk).parent_id == survivor.pk
    roles = ContactRole.objects.filter(contact=both)
    assert list(roles.values_list("company_id", flat=True)) == [survivor.pk]
    merged = Company.objects.get(pk=survivor.pk)
    assert merged.industry == "Tools" and merged.domain == "acme.de"
    assert sorted(t.name for t in merged.tags.all()) == ["x"]
    services.merge_undo(actor=org.owner, merge_id=merge.pk)
    assert dump() == before


def test_every_foreign_key_to_contacts_and_companies_is_moved():
    """Any model of any app with a foreign key (or one-to-one, or many-to-many) to a contact or a company
    is found by the merge, so rows of apps added later move too."""
    for target in (Contact, Company):
        expected = set()
        for model in apps.get_models(include_auto_created=True):
            if model._meta.app_label == "dedupe":
                continue
            for f in model._meta.concrete_fields:
                if isinstance(f, models.ForeignKey) and f.remote_field.model is target:
                    expected.add((model._meta.label_lower, f.name))
        found = {(m._meta.label_lower, f.name) for m, f in services.relations(target)}
        assert expected == found
        assert ("contacts.contact_tags", "contact") in found or target is Company


def test_rights_a_member_cannot_merge_what_they_may_not_archive(org, pair, dump):
    survivor, other, _, _ = pair
    before = dump()
    with pytest.raises(PermissionDeniedError):  # a teammate may change but not archive
        services.contacts_merge(actor=org.teammate, survivor_id=survivor.pk, other_ids=[other.pk])
    with pytest.raises(PermissionDeniedError):
        services.contacts_merge(actor=org.readonly, survivor_id=survivor.pk, other_ids=[other.pk])
    with pytest.raises(NotFoundError):  # another team does not see them
        services.contacts_merge(actor=org.other, survivor_id=survivor.pk, other_ids=[other.pk])
    assert dump() == before
    assert not Merge.objects.exists()


def test_bad_input_names_the_field(org, pair):
    survivor, other, _, _ = pair
    cases = [
        ({"survivor_id": None, "other_ids": [other.pk]}, "survivor_id"),
        ({"survivor_id": survivor.pk, "other_ids": []}, "other_ids"),
        ({"survivor_id": survivor.pk, "other_ids": [survivor.pk]}, "other_ids"),
        ({"survivor_id": survivor.pk, "other_ids": ["x"]}, "other_ids"),
        (
            {"survivor_id": survivor.pk, "other_ids": [other.pk], "field_choices": {"nope": other.pk}},
            "field_choices.nope",
        ),
        (
            {"survivor_id": survivor.pk, "other_ids": [other.pk], "field_choices": {"last_name": 999999}},
            "field_choices.last_name",
        ),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.contacts_merge(actor=org.owner, **data)
        assert field in exc.value.errors, (data, exc.value.errors)
    assert not Merge.objects.exists()
    services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    with pytest.raises(ValidationError) as exc:
        services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    assert "other_ids" in exc.value.errors


def test_merging_a_group_closes_it_and_undo_reopens_it(org, pair):
    survivor, other, _, _ = pair
    group = DuplicateGroup.objects.create(kind="contact", score=90, reasons=["Same name"])
    DuplicateMember.objects.bulk_create(
        [DuplicateMember(group=group, kind="contact", object_id=pk) for pk in (survivor.pk, other.pk)]
    )
    merge = services.group_merge(actor=org.owner, group_id=group.pk)
    assert merge.survivor_id == survivor.pk
    group.refresh_from_db()
    assert group.status == "merged" and group.merge_id == merge.pk
    services.merge_undo(actor=org.owner, merge_id=merge.pk)
    group.refresh_from_db()
    assert group.status == "open"


def test_rows_of_other_apps_move_and_come_back(org, pair, dump):
    """An app built alongside (activities) is moved by introspection alone, and undo puts it back."""
    activities = pytest.importorskip("activities.services")
    from activities.models import ActivityLink

    survivor, other, _, _ = pair
    note = activities.activity_create(
        actor=org.owner, data={"kind": "note", "body": "Met at the fair", "links": [{"contact_id": other.pk}]}
    )
    before = dump()
    merge = services.contacts_merge(actor=org.owner, survivor_id=survivor.pk, other_ids=[other.pk])
    assert list(ActivityLink.objects.filter(activity=note).values_list("contact_id", flat=True)) == [
        survivor.pk
    ]
    services.merge_undo(actor=org.owner, merge_id=merge.pk)
    assert dump() == before
