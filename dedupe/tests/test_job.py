"""The whole-database job: blocking, scoring, grouping, dismissals kept, and the quality bar on generated
data with injected duplicates."""

from __future__ import annotations

import random

import pytest

from contacts.bulk import companies_bulk_create, contacts_bulk_create
from contacts.services import company_create, contact_create
from dedupe import jobs, matching, services
from dedupe.models import DuplicateGroup
from dedupe.synthetic import base_contacts, duplicate_of, pair_quality

pytestmark = pytest.mark.django_db

PRECISION_BAR = 0.95
RECALL_BAR = 0.90


def _groups(kind="contact", status="open"):
    return [
        sorted(g.members.values_list("object_id", flat=True))
        for g in DuplicateGroup.objects.filter(kind=kind, status=status).order_by("-score", "id")
    ]


def test_keys_fold_names_aliases_and_company_names():
    assert matching.fold("  Jürgen O'Connor-SMITH ") == "jurgen o connor smith"
    assert matching.name_key("Müller", "Anna") == matching.name_key("anna", "MULLER")
    assert matching.email_canonical("First.Last+news@googlemail.com") == "firstlast@gmail.com"
    assert matching.email_canonical("first.last+x@acme.com") == "first.last@acme.com"
    assert "first.last@gmail.com" in matching.email_variants("first.last+tag@gmail.com")
    assert matching.company_name_key("The ACME Industries, Inc.") == matching.company_name_key(
        "acme industries"
    )
    a = matching.contact_facts(1, "Anna", "Müller", 5, ["a@x.com"], [])
    swapped = matching.contact_facts(2, "Muller", "ANNA", 5, [], [])
    assert matching.contact_score(a, swapped)[0] >= matching.THRESHOLD
    namesake = matching.contact_facts(3, "Anna", "Müller", None, ["b@y.com"], [])
    assert matching.contact_score(a, namesake)[0] < matching.THRESHOLD  # a name alone is not enough


def test_job_groups_by_email_phone_and_company_and_keeps_dismissals(org):
    acme = company_create(actor=org.owner, data={"name": "Acme"})
    a = contact_create(actor=org.owner, data={"first_name": "Anna", "last_name": "Berg", "email": "a@x.com"})
    b = contact_create(actor=org.owner, data={"first_name": "ANNA", "last_name": "Berg", "email": "A@x.com"})
    c = contact_create(
        actor=org.owner, data={"first_name": "Anna", "last_name": "Berg", "phone": "+4915112345678"}
    )
    c2 = contact_create(
        actor=org.owner, data={"first_name": "Berg", "last_name": "Anna", "phone": "+49 151 12345678"}
    )
    d = contact_create(
        actor=org.owner, data={"first_name": "Jon", "last_name": "Smith", "company_id": acme.pk}
    )
    e = contact_create(
        actor=org.owner, data={"first_name": "John", "last_name": "Smith", "company_id": acme.pk}
    )
    contact_create(actor=org.owner, data={"first_name": "Anna", "last_name": "Berg"})  # a namesake only
    f = contact_create(
        actor=org.owner, data={"first_name": "Zed", "last_name": "Ray", "email": "zed.ray+crm@gmail.com"}
    )
    g = contact_create(
        actor=org.owner, data={"first_name": "Zed", "last_name": "Ray", "email": "ZedRay@gmail.com"}
    )

    result = jobs.run("contact")
    groups = _groups()
    assert sorted(groups) == sorted([[a.pk, b.pk], [c.pk, c2.pk], [d.pk, e.pk], [f.pk, g.pk]])
    assert result.groups == 4 and result.records == 9
    by_members = {
        tuple(sorted(gr.members.values_list("object_id", flat=True))): gr
        for gr in DuplicateGroup.objects.all()
    }
    assert "Same e-mail address" in by_members[(a.pk, b.pk)].reasons
    assert "Same phone number" in by_members[(c.pk, c2.pk)].reasons
    assert "Same company" in by_members[(d.pk, e.pk)].reasons
    assert "Same e-mail address apart from +tag or dots" in by_members[(f.pk, g.pk)].reasons
    assert all(75 <= gr.score <= 100 for gr in by_members.values())

    services.group_dismiss(actor=org.owner, group_id=by_members[(d.pk, e.pk)].pk)
    jobs.run("contact")
    assert sorted(_groups()) == sorted([[a.pk, b.pk], [c.pk, c2.pk], [f.pk, g.pk]])
    assert _groups(status="dismissed") == [[d.pk, e.pk]]

    # Union-find: a third record linked to one member joins that group.
    h = contact_create(
        actor=org.owner,
        data={"first_name": "Anna", "last_name": "Berg", "email": "a@x.com", "phone": "+4915112345678"},
    )
    jobs.run("contact")
    assert sorted([a.pk, b.pk, c.pk, c2.pk, h.pk]) in _groups()


def test_company_job_finds_same_domain_and_similar_names(org):
    a = company_create(actor=org.owner, data={"name": "Acme Industries GmbH", "domain": "acme.de"})
    b = company_create(actor=org.owner, data={"name": "ACME Industries", "domain": "https://www.acme.de/"})
    c = company_create(actor=org.owner, data={"name": "Globex Corporation"})
    d = company_create(actor=org.owner, data={"name": "Globex Corp."})
    company_create(actor=org.owner, data={"name": "Initech"})
    jobs.run("company")
    assert sorted(_groups("company")) == sorted([[a.pk, b.pk], [c.pk, d.pk]])


def test_quality_bar_on_generated_data(org, capsys):
    """Precision ≥ 0.95 and recall ≥ 0.90 of the whole-database job on 3,000 generated contacts with 10 %
    injected duplicates (typos, swapped names, case, accents, phone formats, e-mail aliases)."""
    rng = random.Random(20261123)
    company_rows = [{"name": f"Company {i}", "domain": f"company{i}.example"} for i in range(400)]
    company_ids: list[int] = []
    companies_bulk_create(actor=org.admin, rows=company_rows, ids=company_ids)
    domains = {pk: row["domain"] for pk, row in zip(company_ids, company_rows, strict=True)}
    originals = base_contacts(rng, 3000, company_ids, domains)
    ids: list[int] = []
    errors: list = []
    contacts_bulk_create(actor=org.admin, rows=originals, ids=ids, errors=errors)
    assert not errors
    picked = rng.sample(range(len(originals)), 300)
    duplicates = [duplicate_of(rng, originals[i]) for i in picked]
    dup_ids: list[int] = []
    contacts_bulk_create(actor=org.admin, rows=duplicates, ids=dup_ids, errors=errors)
    assert not errors, errors[:3]
    truth = {tuple(sorted((ids[i], d))) for i, d in zip(picked, dup_ids, strict=True)}

    result = jobs.run("contact")
    precision, recall, predicted, found = pair_quality(_groups(), truth)
    with capsys.disabled():
        print(
            f"\ndedupe quality: {result.records} contacts, {len(truth)} injected duplicates, "
            f"{predicted} pairs flagged, {found} right: precision {precision:.3f}, recall {recall:.3f}"
        )
    assert precision >= PRECISION_BAR, precision
    assert recall >= RECALL_BAR, recall
