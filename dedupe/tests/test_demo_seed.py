"""The demo's near-duplicates: each twin lands in one open group with its original."""

from __future__ import annotations

import pytest

from contacts.models import Contact
from contacts.seed import seed
from dedupe.models import DuplicateGroup, DuplicateMember
from dedupe.seed import seed_duplicates

pytestmark = pytest.mark.django_db


def test_demo_twins_are_found_and_grouped_with_their_originals():
    seed(scale=400, seed=7, password=None)
    before = set(Contact.objects.values_list("id", flat=True))
    made = seed_duplicates(seed=7)
    assert made == 4
    twins = Contact.objects.exclude(id__in=before)
    assert twins.count() == 4
    for twin in twins:
        assert "+newsletter@" in twin.email and twin.email == twin.email.lower()  # normalised on the way in
        group_id = DuplicateMember.objects.get(kind="contact", object_id=twin.pk).group_id
        members = set(DuplicateMember.objects.filter(group_id=group_id).values_list("object_id", flat=True))
        originals = members - {twin.pk}
        assert originals and originals <= before
        original = Contact.objects.get(pk=min(originals))
        assert original.last_name == twin.last_name
    assert DuplicateGroup.objects.filter(kind="contact", status="open").count() >= 4
