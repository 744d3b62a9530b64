"""Fixtures of the activities tests: a shared contact and company owned by `owner` (Team A)."""

from __future__ import annotations

import pytest


@pytest.fixture
def shared(org):
    from contacts.services import company_create, contact_create

    company = company_create(actor=org.owner, data={"name": "Shared Co"})
    contact = contact_create(
        actor=org.owner, data={"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}
    )
    return {"contact": contact, "company": company}
