"""Duplicates in the browser: the warning while typing a new contact, the review page, merge and undo."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"dedupe-{name}.png"), full_page=True)


def test_dedupe_journey(browser_page):
    from contacts.models import Contact
    from contacts.services import contact_create
    from dedupe import jobs
    from dedupe.models import Merge
    from users.services import user_create

    user = user_create(
        actor=None,
        data={"username": "ada", "password": "pw-ada-lovelace", "role": "member", "teams": ["Team A"]},
    )
    existing = contact_create(
        actor=user, data={"first_name": "Ada", "last_name": "Lovelace", "email": "ada.lovelace@gmail.com"}
    )
    page = browser_page
    page.goto("/login/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw-ada-lovelace")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/contacts/$"))

    # The warning appears as soon as the e-mail is entered (an alias of the stored one), before saving.
    page.goto("/contacts/new/")
    page.fill("input[name=first_name]", "Ada")
    page.fill("input[name=last_name]", "Lovelace")
    page.fill("input[name=email]", "Ada.Lovelace+crm@gmail.com")
    page.locator("input[name=phone]").focus()
    warning = page.locator(".dedupe-warning")
    warning.wait_for()
    assert warning.locator(f"a[href='{existing.get_absolute_url()}']").is_visible()
    shot(page, "01-warning")
    page.get_by_role("button", name="Create contact").click()  # a warning, not a block
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    assert Contact.objects.count() == 2

    jobs.run("contact")
    page.goto("/duplicates/")
    shot(page, "02-review")
    page.get_by_role("link", name="Compare and merge").click()
    page.wait_for_url(re.compile(r"/duplicates/\d+/$"))
    shot(page, "03-compare")
    page.get_by_role("button", name="Merge", exact=True).click()
    page.wait_for_url(re.compile(r"/merges/\d+/$"))
    shot(page, "04-merged")
    assert Contact.objects.filter(archived_at__isnull=True).count() == 1
    page.get_by_role("button", name="Undo merge").click()
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    assert Contact.objects.filter(archived_at__isnull=True).count() == 2
    assert Merge.objects.get().undone_at is not None
