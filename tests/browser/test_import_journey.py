"""Import a CSV through the wizard in a real headless Chromium: upload, map with preview, run, watch the
progress page reach the end, see the errors, undo."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.django_db(transaction=True)

CSV = (
    "First name,Last name,E-mail address,Mobile,Organisation\n"
    "Ada,Lovelace,ada@example.com,+44 20 7946 0958,Analytical Engines\n"
    "Alan,Turing,not-an-email,,\n"
)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_import_journey(browser_page, tmp_path):
    from contacts.models import Contact
    from imports.engine import job_run
    from imports.models import ImportJob
    from users.services import user_create

    user_create(
        actor=None,
        data={"username": "ida", "password": "pw-ida-importer", "role": "member", "teams": ["Team A"]},
    )
    source = tmp_path / "people.csv"
    source.write_text(CSV, encoding="utf-8")
    page = browser_page
    page.goto("/imports/")
    page.fill("input[name=username]", "ida")
    page.fill("input[name=password]", "pw-ida-importer")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/imports/$"))
    shot(page, "import-01-empty-list")

    page.get_by_role("link", name="New import").first.click()
    page.set_input_files("input[name=file]", str(source))
    shot(page, "import-02-upload")
    page.get_by_role("button", name="Upload and map columns").click()
    page.wait_for_url(re.compile(r"/imports/\d+/mapping/$"))
    assert page.locator("select[name=map_2]").input_value() == "email"
    page.select_option("select[name=key]", "email")
    page.check("input[name=create_companies]")
    shot(page, "import-03-mapping")
    page.get_by_role("button", name="Start the import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    job_run(job.pk)  # the worker's part
    page.wait_for_selector("text=Rows with errors")
    shot(page, "import-04-finished")
    assert Contact.objects.get(email="ada@example.com").company.name == "Analytical Engines"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Undo the import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    assert ImportJob.objects.get().status in {"undoing", "undone"}
