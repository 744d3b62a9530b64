"""Imports through the API, the pages, the services and the `crm import` command."""

from __future__ import annotations

import codecs
import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from contacts.models import Company, Contact
from contacts.services import company_create, contact_create
from core.models import HistoryEntry
from core.testing import assert_matches_spec
from imports import engine
from imports.mapping import suggest
from imports.models import ImportJob, ImportRow

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, name="people.csv", **fields):
    """POST /api/v1/imports as multipart, the way a client uploads a file."""
    data = {"file": SimpleUploadedFile(name, content), **{k: v for k, v in fields.items() if v is not None}}
    return client.client.post("/api/v1/imports", data=data)


def run(job_id: int) -> ImportJob:
    return engine.job_run(job_id)


def csv_bytes(rows: list[list[str]], encoding="utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def report(client, job_id) -> list[dict]:
    response = client.client.get(f"/api/v1/imports/{job_id}/report")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


PEOPLE = [
    ["First name", "Last name", "E-mail", "Mobile", "Company name", "Tags"],
    ["Ada", "Lovelace", "ada@example.com", "+44 20 7946 0958", "Analytical Engines", "math; vip"],
    ["Alan", "Turing", "not-an-email", "", "", ""],
    ["Grace", "Hopper", "grace@example.com", "", "", "navy"],
]


# ---------------------------------------------------------------------------------------------------------
# Mapping suggestion


def test_mapping_is_suggested_from_headers_case_space_and_accent_insensitively():
    headers = [
        "E-mail",
        "Email address",
        " FIRST name ",
        "Nachname",
        "Mobile",
        "Organisation",
        "Notes?",
        "Prénom",
    ]
    assert suggest("contacts", headers) == {
        "E-mail": "email",
        " FIRST name ": "first_name",
        "Nachname": "last_name",
        "Mobile": "phone",
        "Organisation": "company",
    }
    assert suggest("companies", ["Company name", "Web site", "Domain"]) == {
        "Company name": "name",
        "Web site": "website",
        "Domain": "domain",
    }


# ---------------------------------------------------------------------------------------------------------
# The whole flow through the API


def test_import_contacts_through_the_api_with_report(org, api_as):
    client = api_as(org.owner)
    response = upload(client, csv_bytes(PEOPLE), key="email", create_companies="true")
    assert response.status_code == 201, response.content
    assert_matches_spec(response, "post", "/api/v1/imports")
    body = response.json()
    assert body["status"] == "pending" and body["total_rows"] == 3
    assert body["mapping"]["E-mail"] == "email"
    run(body["id"])
    response = client.get(f"/api/v1/imports/{body['id']}")
    assert_matches_spec(response, "get", "/api/v1/imports/{job_id}")
    job = response.json()
    assert (job["status"], job["created"], job["errors"], job["percent"]) == ("done", 2, 1, 100)
    ada = Contact.objects.get(email="ada@example.com")
    assert ada.phone == "+442079460958" and ada.owner_id == org.owner.pk
    assert ada.company.name == "Analytical Engines"
    assert sorted(t.name for t in ada.tags.all()) == ["math", "vip"]
    assert HistoryEntry.objects.filter(object_id=ada.pk, action="created").exists()
    lines = report(client, body["id"])
    assert [(r["row"], r["outcome"], r["record_type"]) for r in lines] == [
        ("", "created", "company"),
        ("2", "created", "contact"),
        ("3", "error", "contact"),
        ("4", "created", "contact"),
    ]
    assert lines[2]["field"] == "email" and "@" in lines[2]["message"]
    listing = client.get("/api/v1/imports").json()
    assert [i["id"] for i in listing["items"]] == [body["id"]]


def test_without_create_companies_an_unknown_company_is_a_row_error(org, api_as):
    client = api_as(org.owner)
    company_create(actor=org.owner, data={"name": "Known Co", "domain": "known.example"})
    rows = [
        ["Name", "Email", "Company"],
        ["A One", "a@x.example", "known.example"],
        ["B Two", "b@x.example", "Nope"],
    ]
    job_id = upload(client, csv_bytes(rows)).json()["id"]
    run(job_id)
    assert Contact.objects.get(email="a@x.example").company.name == "Known Co"
    assert not Contact.objects.filter(email="b@x.example").exists()
    (line,) = [r for r in report(client, job_id) if r["outcome"] == "error"]
    assert line["field"] == "company" and "Nope" in line["message"]


# ---------------------------------------------------------------------------------------------------------
# Create or update, by each key


def test_contacts_update_by_email_and_undo_restores_and_removes(org, api_as):
    client = api_as(org.owner)
    existing = contact_create(
        actor=org.owner, data={"first_name": "Ada", "email": "ada@example.com", "job_title": "Analyst"}
    )
    rows = [
        ["Email", "Job title", "First name"],
        ["ADA@example.com", "Countess", ""],
        ["new@example.com", "", "New"],
    ]
    job_id = upload(client, csv_bytes(rows), key="email").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.updated_count) == (1, 1)
    existing.refresh_from_db()
    assert existing.job_title == "Countess" and existing.first_name == "Ada"  # empty cells clear nothing
    change = HistoryEntry.objects.filter(object_id=existing.pk, action="updated").latest("id")
    assert change.changes["job_title"] == ["Analyst", "Countess"]
    new_id = Contact.objects.get(email="new@example.com").pk

    response = client.post(f"/api/v1/imports/{job_id}/undo")
    assert response.status_code == 202 and response.json()["status"] == "undoing"
    engine.job_undo(job_id, org.owner)
    existing.refresh_from_db()
    assert existing.job_title == "Analyst"
    assert not Contact.objects.filter(pk=new_id).exists()  # nobody touched it: removed
    notes = HistoryEntry.objects.filter(object_id=existing.pk, changes__has_key="undo_of_import")
    assert notes.exists()
    assert ImportJob.objects.get(pk=job_id).status == "undone"
    assert client.post(f"/api/v1/imports/{job_id}/undo").status_code == 400


def test_undo_archives_created_records_someone_changed_since(org):
    from contacts.services import contact_update
    from imports.services import import_create

    job = import_create(
        actor=org.owner, kind="contacts", upload=SimpleUploadedFile("a.csv", b"First name\nZed\n")
    )
    run(job.pk)
    created = Contact.objects.get(first_name="Zed")
    contact_update(actor=org.teammate, contact_id=created.pk, data={"version": 1, "last_name": "Changed"})
    engine.job_undo(job.pk, org.owner)
    created.refresh_from_db()
    assert created.archived_at is not None


def test_contacts_update_by_external_id(org, api_as):
    existing = contact_create(actor=org.owner, data={"first_name": "Old", "external_id": "C-1"})
    rows = [["External id", "First name"], ["C-1", "Renamed"], ["C-2", "Fresh"]]
    job_id = upload(api_as(org.owner), csv_bytes(rows), key="external_id").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.updated_count) == (1, 1)
    existing.refresh_from_db()
    assert existing.first_name == "Renamed"
    assert Contact.objects.get(external_id="C-2").first_name == "Fresh"


@pytest.mark.parametrize(
    ("key", "cell_header", "cell"),
    [
        ("domain", "Domain", "WWW.Acme.example"),
        ("external_id", "External id", "A-1"),
        ("name", "Name", "acme inc"),
    ],
)
def test_companies_update_by_each_key(org, api_as, key, cell_header, cell):
    acme = company_create(
        actor=org.owner, data={"name": "Acme Inc", "domain": "acme.example", "external_id": "A-1"}
    )
    rows = [[cell_header, "Industry"], [cell, "Rockets"]]
    if key != "name":
        rows = [[cell_header, "Name", "Industry"], [cell, "Acme Inc", "Rockets"]]
    job_id = upload(api_as(org.owner), csv_bytes(rows), name="co.csv", kind="companies", key=key).json()["id"]
    job = run(job_id)
    assert (job.created_count, job.updated_count, job.error_count) == (0, 1, 0), list(job.rows.values())
    acme.refresh_from_db()
    assert acme.industry == "Rockets"


def test_a_key_repeated_in_the_file_updates_what_the_first_row_created(org, api_as):
    rows = [["Email", "First name", "Job title"], ["x@example.com", "X", ""], ["x@example.com", "", "Boss"]]
    job = run(upload(api_as(org.owner), csv_bytes(rows), key="email").json()["id"])
    assert (job.created_count, job.updated_count) == (1, 1)
    assert Contact.objects.get(email="x@example.com").job_title == "Boss"


def test_dry_run_writes_nothing_and_reports_everything(org, api_as):
    client = api_as(org.owner)
    before = (Contact.objects.count(), Company.objects.count(), HistoryEntry.objects.count())
    job_id = upload(client, csv_bytes(PEOPLE), key="email", dry_run="true", create_companies="true").json()[
        "id"
    ]
    job = run(job_id)
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1)
    assert (Contact.objects.count(), Company.objects.count(), HistoryEntry.objects.count()) == before
    assert [r["outcome"] for r in report(client, job_id)] == ["created", "created", "error", "created"]
    assert client.post(f"/api/v1/imports/{job_id}/undo").status_code == 400


def test_a_member_cannot_update_a_record_they_may_not_change(org, api_as):
    private = contact_create(
        actor=org.other, data={"first_name": "Private", "email": "p@example.com", "job_title": "Spy"}
    )
    rows = [["Email", "Job title"], ["p@example.com", "Changed"], ["ok@example.com", "Fine"]]
    client = api_as(org.owner)
    job_id = upload(client, csv_bytes(rows), key="email").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.updated_count, job.error_count) == (1, 0, 1)
    private.refresh_from_db()
    assert private.job_title == "Spy" and private.version == 1
    error = [r for r in report(client, job_id) if r["outcome"] == "error"][0]
    assert error["field"] == "email" and "may not change" in error["message"]


def test_readonly_may_not_import_and_others_do_not_see_an_import(org, api_as):
    assert upload(api_as(org.readonly), csv_bytes(PEOPLE)).status_code == 403
    job_id = upload(api_as(org.owner), csv_bytes(PEOPLE)).json()["id"]
    assert api_as(org.teammate).get(f"/api/v1/imports/{job_id}").status_code == 404
    assert api_as(org.teammate).post(f"/api/v1/imports/{job_id}/undo").status_code == 404
    assert api_as(org.admin).get(f"/api/v1/imports/{job_id}").status_code == 200
    assert api_as(org.teammate).get("/api/v1/imports").json()["items"] == []


# ---------------------------------------------------------------------------------------------------------
# Bad files: a clear error naming `file`, nothing kept


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "a.csv", "The file is empty."),
        (b"First name,Email\n", "a.csv", "header row but no data rows"),
        (b"Email,email\nx@example.com,y@example.com\n", "a.csv", "more than once"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "not a readable XLSX"),
        (b"\x81\x8d\x8f\x90\x9d garbage\n\x81,\x8d\n", "a.csv", "encoding is not recognised"),
        (b"a,b\n1,2\n", "a.pdf", "Upload a .csv, .xlsx or .vcf file."),
    ],
)
def test_bad_files_are_refused_with_a_clear_error(org, api_as, content, name, message):
    response = upload(api_as(org.owner), content, name=name)
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["errors"]["file"])
    assert ImportJob.objects.count() == 0 and Contact.objects.count() == 0


def test_missing_required_columns_are_named(org, api_as):
    response = upload(api_as(org.owner), b"Shoe size,Colour\n42,red\n")
    assert response.status_code == 400
    assert "mapping" in response.json()["errors"]
    response = upload(api_as(org.owner), b"Email,Name\nx@example.com,X\n", key="external_id")
    assert response.status_code == 400 and "key" in response.json()["errors"]
    assert ImportJob.objects.count() == 0


def test_a_file_over_the_limit_is_refused(org, api_as, settings):
    settings.CRM_IMPORT_MAX_BYTES = 1024
    response = upload(api_as(org.owner), b"First name\n" + b"Someone\n" * 200)
    assert response.status_code == 400
    assert "larger than the limit" in response.json()["errors"]["file"][0]


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + "Vorname,Nachname\nJürgen,Weiß\n".encode(),
        "Vorname,Nachname\nJürgen,Weiß\n".encode("utf-16"),
        "Vorname;Nachname\nJürgen;Weiß\n".encode("cp1252"),
    ],
    ids=["utf-8-bom", "utf-16", "cp1252-semicolons"],
)
def test_encodings_and_delimiters_are_detected(org, api_as, encoded):
    job = run(upload(api_as(org.owner), encoded).json()["id"])
    assert job.created_count == 1
    assert Contact.objects.get().last_name == "Weiß"


def test_xlsx_import(org, api_as):
    content = xlsx_bytes([["First name", "Phone", "Birthday"], ["Xena", 4930123456, "1990-05-17"]])
    job = run(upload(api_as(org.owner), content, name="people.xlsx").json()["id"])
    assert (job.created_count, job.error_count) == (1, 0), list(job.rows.values())
    assert str(Contact.objects.get().birthday) == "1990-05-17"


# ---------------------------------------------------------------------------------------------------------
# Export: formula escaping in CSV and XLSX


def test_list_exports_escape_formulas_in_csv_and_xlsx(org, page_as):
    contact_create(
        actor=org.owner, data={"first_name": "=HYPERLINK(1)", "last_name": "@SUM", "job_title": "+x"}
    )
    client = page_as(org.owner)
    url = reverse("contacts:contact_export") + "?cols=name,job_title"
    text = b"".join(client.get(url).streaming_content).decode()
    assert "'=HYPERLINK(1)" in text and "'+x" in text
    response = client.get(url + "&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "'+x" in values and not any(isinstance(v, str) and v.startswith(("=", "+", "@")) for v in values)
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK(1)") for v in values)


def test_xlsx_export_follows_the_filter_and_visibility(org, page_as):
    contact_create(actor=org.owner, data={"first_name": "Mine", "job_title": "Keep"})
    contact_create(actor=org.other, data={"first_name": "Theirs", "job_title": "Keep"})
    contact_create(actor=org.owner, data={"first_name": "Filtered", "job_title": "Drop"})
    url = reverse("contacts:contact_export") + '?format=xlsx&filter=job_title = "Keep"'
    response = page_as(org.owner).get(url)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert "Mine" in text and "Theirs" not in text and "Filtered" not in text


# ---------------------------------------------------------------------------------------------------------
# vCard


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_vcard_round_trip(org, page_as, api_as, version):
    company = company_create(actor=org.owner, data={"name": "Round, Trip; Ltd"})
    original = contact_create(
        actor=org.owner,
        data={
            "prefix": "Dr.",
            "first_name": "Zoë",
            "last_name": "O'Brien-Łukasz",
            "job_title": "Head of a very long department name that certainly needs folding of the line",
            "birthday": "1985-02-03",
            "emails": [
                {"email": "zoe@example.com", "label": "work"},
                {"email": "zoe@home.example", "label": "home"},
            ],
            "phones": [
                {"number": "+49 30 1234567", "label": "mobile"},
                {"number": "+1 212 555 0100", "label": "work"},
            ],
            "addresses": [
                {
                    "kind": "home",
                    "street": "Main St 1",
                    "city": "Berlin",
                    "postal_code": "10115",
                    "country": "DE",
                }
            ],
            "tags": ["vip", "early adopter"],
            "company_id": company.pk,
        },
    )
    detail = page_as(org.owner).get(reverse("contacts:contact_detail", args=[original.pk])).content.decode()
    assert reverse("imports:contact_vcard", args=[original.pk]) in detail
    response = page_as(org.owner).get(
        reverse("imports:contact_vcard", args=[original.pk]) + f"?version={version}"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert f"VERSION:{version}" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert page_as(org.other).get(reverse("imports:contact_vcard", args=[original.pk])).status_code == 404

    original_pk = original.pk
    Contact.objects.filter(pk=original_pk).delete()
    job_id = upload(api_as(org.owner), response.content, name="card.vcf").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.error_count) == (1, 0), list(job.rows.values())
    copy = Contact.objects.get()
    assert (copy.prefix, copy.first_name, copy.last_name) == ("Dr.", "Zoë", "O'Brien-Łukasz")
    assert copy.job_title.startswith("Head of a very long") and str(copy.birthday) == "1985-02-03"
    assert [(e.email, e.label, e.is_primary) for e in copy.emails.all()] == [
        ("zoe@example.com", "work", True),
        ("zoe@home.example", "home", False),
    ]
    assert [(p.number, p.label) for p in copy.phones.all()] == [
        ("+49301234567", "mobile"),
        ("+12125550100", "work"),
    ]
    (address,) = copy.addresses.all()
    assert (address.kind, address.street, address.city, address.postal_code, address.country) == (
        "home",
        "Main St 1",
        "Berlin",
        "10115",
        "DE",
    )
    assert sorted(t.name for t in copy.tags.all()) == ["early adopter", "vip"]
    assert copy.company_id == company.pk


def test_vcard_export_of_a_selection_shows_only_visible_contacts(org, page_as):
    mine = contact_create(actor=org.owner, data={"first_name": "Mine"})
    theirs = contact_create(actor=org.other, data={"first_name": "Theirs"})
    response = page_as(org.owner).get(reverse("imports:contacts_vcard") + f"?ids={mine.pk},{theirs.pk}")
    text = response.content.decode()
    assert text.count("BEGIN:VCARD") == 1 and "Mine" in text and "Theirs" not in text


# ---------------------------------------------------------------------------------------------------------
# Pages


def test_wizard_pages_upload_map_and_run(org, page_as):
    client = page_as(org.owner)
    assert client.get(reverse("imports:import_list")).status_code == 200
    assert client.get(reverse("imports:import_new")).status_code == 200
    response = client.post(
        reverse("imports:import_new"),
        {"kind": "contacts", "file": SimpleUploadedFile("p.csv", csv_bytes(PEOPLE))},
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    mapping_url = reverse("imports:import_mapping", args=[job.pk])
    page = client.get(mapping_url)
    assert page.status_code == 200 and "Ada" in page.content.decode()
    form = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    response = client.post(mapping_url, {**form, "key": "email", "template_name": "My CRM export"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "pending" and job.key == "email"
    run(job.pk)
    detail = client.get(reverse("imports:import_detail", args=[job.pk])).content.decode()
    assert "Rows with errors" in detail
    assert client.get(reverse("imports:import_progress", args=[job.pk])).status_code == 200
    assert client.get(reverse("imports:template_list")).content.decode().count("My CRM export") == 1
    assert page_as(org.teammate).get(reverse("imports:import_detail", args=[job.pk])).status_code == 404


def test_wizard_upload_errors_show_on_the_form(org, page_as):
    response = page_as(org.owner).post(
        reverse("imports:import_new"), {"kind": "contacts", "file": SimpleUploadedFile("p.csv", b"")}
    )
    assert response.status_code == 400 and "The file is empty." in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# crm import


def test_import_command_exit_codes_summary_and_report(org, tmp_path, capsys):
    source = tmp_path / "people.csv"
    source.write_bytes(csv_bytes(PEOPLE))
    report_path = tmp_path / "report.csv"
    call_command(
        "import",
        "contacts",
        str(source),
        "--user",
        "owner",
        "--key",
        "email",
        "--create-companies",
        "--report",
        str(report_path),
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["errors"]) == (2, 1)
    lines = list(csv.DictReader(report_path.open()))
    assert [line["outcome"] for line in lines] == ["created", "created", "error", "created"]
    assert ImportRow.objects.filter(outcome="error").count() == 1

    mapping = json.dumps({"First name": "first_name"})
    call_command("import", "contacts", str(source), "--user", "owner", "--mapping", mapping, "--dry-run")
    assert Contact.objects.count() == 2 and Company.objects.count() == 1

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="XLSX"):
        call_command("import", "contacts", str(broken), "--user", "owner")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import", "contacts", str(tmp_path / "missing.csv"), "--user", "owner")


# ---------------------------------------------------------------------------------------------------------
# Query counts: the list of imports costs the same with 3 or 30 imports


def test_import_lists_use_constant_queries(org, api_as, page_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(count):
        for i in range(count):
            ImportJob.objects.create(
                created_by=org.owner, kind="contacts", file_name=f"f{i}.csv", file_format="csv"
            )

    client, page = api_as(org.owner), page_as(org.owner)
    client.get("/api/v1/imports")  # the first call of a token records its use
    counts = []
    for total in (3, 30):
        make(total - ImportJob.objects.count())
        with CaptureQueriesContext(connection) as api_queries:
            assert len(client.get("/api/v1/imports").json()["items"]) == total
        with CaptureQueriesContext(connection) as page_queries:
            assert page.get(reverse("imports:import_list")).status_code == 200
        counts.append((len(api_queries), len(page_queries)))
    assert counts[0] == counts[1], counts


def test_validation_in_a_second_process_gives_the_same_result(org, api_as, monkeypatch):
    monkeypatch.setattr(engine, "FORK_FROM_ROWS", 1)
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    client = api_as(org.owner)
    job_id = upload(client, csv_bytes(PEOPLE), key="email", create_companies="true").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.error_count) == (2, 1)
    assert Contact.objects.get(email="ada@example.com").company.name == "Analytical Engines"
    assert [r["outcome"] for r in report(client, job_id)] == ["created", "created", "error", "created"]


def test_a_failed_import_keeps_what_it_committed_and_can_be_undone(org, api_as, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 1)
    real_process = engine.ImportRun.process
    calls = []

    def process(self, batch):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_process(self, batch)

    monkeypatch.setattr(engine.ImportRun, "process", process)
    client = api_as(org.owner)
    rows = [["First name"], ["One"], ["Two"], ["Three"]]
    job_id = upload(client, csv_bytes(rows)).json()["id"]
    job = run(job_id)
    assert job.status == "failed" and "disk full" in job.message
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["One"]  # nothing half-written
    assert client.post(f"/api/v1/imports/{job_id}/undo").status_code == 202
    engine.job_undo(job_id, org.owner)
    assert Contact.objects.count() == 0


def test_created_rows_that_look_like_existing_contacts_are_listed_as_possible_duplicates(
    org, api_as, page_as
):
    acme = company_create(actor=org.owner, data={"name": "Acme Rockets"})
    same_phone = contact_create(
        actor=org.owner, data={"first_name": "Maria", "last_name": "Schober", "phone": "+49 151 23456789"}
    )
    alias = contact_create(
        actor=org.owner, data={"first_name": "Jonas", "last_name": "Berg", "email": "jonas.berg@example.com"}
    )
    colleague = contact_create(
        actor=org.owner, data={"first_name": "Katharina", "last_name": "Wolf", "company_id": acme.pk}
    )
    hidden = contact_create(
        actor=org.other, data={"first_name": "Hidden", "last_name": "Person", "phone": "+44 20 7946 0000"}
    )
    rows = [
        ["First name", "Last name", "Phone", "E-mail", "Company"],
        ["Marija", "Schober", "+49 (151) 2345-6789", "", ""],  # same phone in another format, a typo
        ["Jonas", "Berg", "", "Jonas.Berg+news@example.com", ""],  # an e-mail alias
        ["Katharina", "Wolff", "", "", "Acme Rockets"],  # similar name at the same company
        ["Hidden", "Person", "+442079460000", "", ""],  # matches only a contact the importer cannot see
        ["Brand", "New", "", "brand.new@example.com", ""],
    ]
    client = api_as(org.owner)
    job_id = upload(client, csv_bytes(rows), create_companies="true").json()["id"]
    job = run(job_id)
    by_row = {r.row_number: r.duplicates for r in ImportRow.objects.filter(job_id=job_id)}
    assert (job.created_count, job.error_count, job.duplicate_count) == (5, 0, 3)
    assert client.get(f"/api/v1/imports/{job_id}").json()["possible_duplicates"] == 3
    by_row = {r.row_number: r.duplicates for r in ImportRow.objects.filter(job_id=job_id)}
    assert [d["id"] for d in by_row[2]] == [same_phone.pk]
    assert "Same phone number" in by_row[2][0]["reasons"]
    assert [d["id"] for d in by_row[3]] == [alias.pk]
    assert [d["id"] for d in by_row[4]] == [colleague.pk]
    assert by_row[5] == [] and by_row[6] == []
    assert all(d["id"] != hidden.pk for ds in by_row.values() for d in ds)
    # Created all the same: the rows are new contacts.
    assert Contact.objects.filter(last_name="Schober").count() == 2
    lines = [r for r in report(client, job_id) if r["field"] == "possible_duplicate"]
    assert [r["row"] for r in lines] == ["2", "3", "4"]
    assert lines[0]["message"].startswith(f"#{same_phone.pk} Maria Schober (score ")
    page = page_as(org.owner).get(reverse("imports:import_detail", args=[job_id]))
    html = page.content.decode()
    assert "Created, but possibly duplicates" in html and "Marija Schober" in html
    assert reverse("contacts:contact_detail", args=[same_phone.pk]) in html
    assert "Hidden Person" not in html


def test_created_companies_that_look_like_existing_ones_are_listed_as_possible_duplicates(
    org, api_as, page_as
):
    same_domain = company_create(
        actor=org.owner, data={"name": "Northwind Traders", "domain": "northwind.com"}
    )
    similar = company_create(actor=org.owner, data={"name": "Ärztekammer Nordrhein"})
    same_phone = company_create(actor=org.owner, data={"name": "Blue Harbor", "phone": "+49 30 1234567"})
    hidden = company_create(
        actor=org.other, data={"name": "Secret Widgets GmbH", "domain": "widgets.example"}
    )
    rows = [
        ["Name", "Domain", "Phone"],
        ["Northwind", "https://www.Northwind.com/about", ""],  # the same domain, written as a URL
        ["Ärztekammer Nordrhein e.V.", "", ""],  # the same name with a legal form (non-ASCII prefix)
        ["Blue Harbour Ltd", "", "030 1234567"],  # same phone in national format, a spelling variant
        ["Secret Widgets", "widgets.example", ""],  # matches only a company the importer cannot see
        ["Entirely New Co", "new.example", ""],
    ]
    client = api_as(org.owner)
    job_id = upload(client, csv_bytes(rows), name="co.csv", kind="companies").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.error_count, job.duplicate_count) == (5, 0, 3)
    by_row = {r.row_number: r.duplicates for r in ImportRow.objects.filter(job_id=job_id)}
    assert [d["id"] for d in by_row[2]] == [same_domain.pk]
    assert "Same domain" in by_row[2][0]["reasons"]
    assert [d["id"] for d in by_row[3]] == [similar.pk]
    assert [d["id"] for d in by_row[4]] == [same_phone.pk]
    assert by_row[5] == [] and by_row[6] == []
    assert Company.objects.filter(name__startswith="Northwind").count() == 2  # created all the same
    lines = [r for r in report(client, job_id) if r["field"] == "possible_duplicate"]
    assert [r["row"] for r in lines] == ["2", "3", "4"]
    page = page_as(org.owner).get(reverse("imports:import_detail", args=[job_id]))
    html = page.content.decode()
    assert "imported as new companies" in html
    assert reverse("contacts:company_detail", args=[same_domain.pk]) in html
    assert hidden.name not in html


def test_rows_of_the_same_file_that_look_alike_are_named_too(org, api_as, page_as):
    rows = [
        ["First name", "Last name", "E-mail", "Phone"],
        ["Greta", "Lindqvist", "greta@example.com", "+46 8 123 456 78"],
        ["Someone", "Else", "else@example.com", ""],
        ["Greta", "Lindquist", "g.lindqvist@example.org", "+46812345678"],  # same phone, a typo, new e-mail
    ]
    client = api_as(org.owner)
    job_id = upload(client, csv_bytes(rows)).json()["id"]
    job = run(job_id)
    assert (job.created_count, job.duplicate_count) == (3, 1)
    first = Contact.objects.get(email="greta@example.com")
    by_row = {r.row_number: r.duplicates for r in ImportRow.objects.filter(job_id=job_id)}
    assert by_row[2] == [] and by_row[3] == []
    (suspect,) = by_row[4]
    assert (suspect["id"], suspect["row"], suspect["name"]) == (first.pk, 2, "Greta Lindqvist")
    assert "Same phone number" in suspect["reasons"]
    lines = [r for r in report(client, job_id) if r["field"] == "possible_duplicate"]
    assert [r["message"].split(" (score")[0] for r in lines] == [
        f"#{first.pk} Greta Lindqvist, row 2 of this file"
    ]
    html = page_as(org.owner).get(reverse("imports:import_detail", args=[job_id])).content.decode()
    assert "(row 2 of this file)" in html
    # A dry run names the earlier row too, without a record to link.
    dry_id = upload(client, csv_bytes(rows), dry_run="true").json()["id"]
    run(dry_id)
    dry = {r.row_number: r.duplicates for r in ImportRow.objects.filter(job_id=dry_id)}
    assert [(d["row"], d["id"]) for d in dry[4] if d.get("row")] == [(2, None)]


def test_companies_of_the_same_file_that_look_alike_are_named(org, api_as):
    rows = [
        ["Name", "Domain"],
        ["Globex Corporation", "globex.example"],
        ["Globex Corp.", "www.globex.example"],
    ]
    job_id = upload(api_as(org.owner), csv_bytes(rows), name="co.csv", kind="companies").json()["id"]
    job = run(job_id)
    assert (job.created_count, job.duplicate_count) == (2, 1)
    (suspect,) = ImportRow.objects.get(job_id=job_id, row_number=3).duplicates
    assert suspect["row"] == 2 and suspect["id"] == Company.objects.get(name="Globex Corporation").pk


def test_undoing_a_large_import_compacts_the_search_index(org, api_as, monkeypatch):
    from core import search

    calls = []
    monkeypatch.setattr(search, "optimize", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(search, "OPTIMIZE_AFTER_REMOVED", 3)
    client = api_as(org.owner)
    small = run(upload(client, csv_bytes(PEOPLE[:2] + PEOPLE[3:])).json()["id"])  # two contacts
    engine.job_undo(small.pk, org.owner)
    assert calls == []
    rows = [["First name", "E-mail"]] + [[f"P{i}", f"p{i}@example.com"] for i in range(3)]
    large = run(upload(client, csv_bytes(rows)).json()["id"])
    engine.job_undo(large.pk, org.owner)
    assert calls == [1]
    assert not Contact.objects.filter(first_name__startswith="P").exists()
