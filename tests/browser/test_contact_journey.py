"""Sign in, create a contact, find it through the search box, edit it — in a real headless Chromium."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_contact_journey(browser_page):
    from contacts.models import Contact
    from users.services import user_create

    user_create(
        actor=None,
        data={
            "username": "grace",
            "password": "pw-grace-hopper",
            "role": "member",
            "teams": ["Team A"],
            "first_name": "Grace",
        },
    )
    page = browser_page

    page.goto("/contacts/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".form-errors, .errorlist, [role=alert]").first.is_visible()
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", "pw-grace-hopper")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/contacts/$"))
    shot(page, "01-empty-contact-list")

    page.goto("/contacts/new/")
    page.fill("input[name=first_name]", "Katherine")
    page.fill("input[name=last_name]", "Johnson")
    page.fill("input[name=email]", "kj@localhost")  # passes the browser's check, not the server's
    page.get_by_role("button", name="Create contact").click()
    assert page.locator("text=/e-mail|email address|@-sign/i").first.is_visible()
    shot(page, "02-form-error")
    page.fill("input[name=email]", "Katherine.Johnson@NASA.example")
    page.fill("input[name=phone]", "+1 757 864 1000")
    page.get_by_role("button", name="Create contact").click()
    page.wait_for_url(re.compile(r"/contacts/\d+/$"))
    contact = Contact.objects.get(last_name="Johnson")
    assert contact.email == "katherine.johnson@nasa.example"
    assert contact.phone == "+17578641000"
    shot(page, "03-contact-detail")

    page.goto("/contacts/")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "global-q"
    page.keyboard.type("kath joh")
    dropdown = page.locator(f"a[href='/contacts/{contact.pk}/']").first
    dropdown.wait_for(state="visible")
    shot(page, "04-search-dropdown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q="))
    page.click(f"main a[href='/contacts/{contact.pk}/']")
    page.wait_for_url(re.compile(rf"/contacts/{contact.pk}/$"))

    page.goto(f"/contacts/{contact.pk}/edit/")
    page.fill("input[name=job_title]", "Mathematician")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(re.compile(rf"/contacts/{contact.pk}/$"))
    assert page.locator("text=Mathematician").first.is_visible()
    contact.refresh_from_db()
    assert contact.job_title == "Mathematician" and contact.version == 2
    page.goto(f"/contacts/{contact.pk}/?tab=history")
    assert page.locator("text=Mathematician").first.is_visible()
    shot(page, "05-history")
