"""contacts-search: `GET /api/v1/contacts?q=…` through a real server, and the global search box.

Searches: a name prefix ("mar"), two prefixes ("mar sch"), a full e-mail address, a phone number typed in
another format than the stored E.164 ("+49 151 …" for "+49151…"), and the global search: the htmx
dropdown `/search/suggest/?q=mar` when a contacts provider is registered for it, otherwise
`contacts.queries.global_search(user, "mar")` in this process (stderr says which). Each for an
administrator and for a member in no team, who sees few contacts (the full-text match finds many rows
the visibility filter then drops).

The floor is the bare index query in plain SQL on the raw DB-API cursor, same run: the FTS5 MATCH
(SQLite) or tsquery (PostgreSQL) with the match expression the search backend builds, joined to the
contacts with the same visibility filter, newest first, LIMIT 51; for the e-mail and the phone the exact
index lookup (`c.id IN (SELECT contact_id FROM contacts_contactemail WHERE email = %s)`); for the global
search the contact and the company index queries with the dropdown's limit.
"""

from __future__ import annotations

import json
import urllib.parse

import phonenumbers

from bench.common import (
    CONTACT_SELECT,
    Reporter,
    Server,
    bearer,
    bench_users,
    get_ok,
    log,
    percentile,
    placeholders,
    raw_cursor,
    session_cookie,
    time_calls,
    visibility_sql,
)

LIMIT = 50
GLOBAL_LIMIT = 8  # contacts.queries.global_search
DROPDOWN_LIMIT = 5  # core.views.SEARCH_DROPDOWN_LIMIT


def requests_per_case(scale: int) -> int:
    return 30 if scale <= 10_000 else 200


CONTACT_FIELDS = CONTACT_SELECT.split(" FROM ")[0]
COMPANY_FIELDS = "SELECT c.id, c.name, c.domain, c.industry"


def _fts_query(
    text: str, kind: str, fields: str, visible: str, params: list, limit: int, user=None
) -> tuple[str, list]:
    """The index query core.search runs for `text`, joined to the records, in plain SQL: FTS5 MATCH with
    the document-id range of the kind (SQLite) or the tsquery on the GIN-indexed tsv (PostgreSQL), the same
    visibility -- on PostgreSQL repeated in the tsquery by the owner/team lexemes, as the backend does --,
    newest first. The match expression comes from the search backend itself."""
    from django.db import connection

    from core.search import KINDS, normalise_terms
    from core.search.backends import KIND_SHIFT, backend_for

    backend, _ = backend_for("default")
    terms = normalise_terms(text)
    table = {"contact": "contacts_contact", "company": "contacts_company"}[kind]
    join = " LEFT JOIN contacts_company co ON co.id = c.company_id" if kind == "contact" else ""
    where = "c.archived_at IS NULL" + (f" AND {visible}" if visible else "")
    if connection.vendor == "sqlite":
        low = KINDS[kind] << KIND_SHIFT
        sql = (
            f"{fields} FROM core_search_fts f JOIN {table} c ON c.id = f.rowid - %s{join} "
            f"WHERE f.core_search_fts MATCH %s AND f.rowid BETWEEN %s AND %s AND {where} "
            "ORDER BY f.rowid DESC LIMIT %s"
        )
        values = [low, backend.match_prefix(terms), low, low + (1 << KIND_SHIFT) - 1, *params, limit]
    else:
        from core.visibility import visibility_scope

        scope = visibility_scope(user) if user is not None else None
        if not backend._scope_pays(connection, kind, terms, scope):  # the app's own choice
            scope = None
        sql = (
            f"{fields} FROM core_searchdocument s JOIN {table} c ON s.kind = %s AND s.object_id = c.id{join} "
            f"WHERE s.tsv @@ %s::tsquery AND {where} ORDER BY c.id DESC LIMIT %s"
        )
        values = [kind, backend.with_scope(backend.query_match(terms), scope), *params, limit]
    return placeholders(sql), values


def _samples(cursor, visible: str, params: list) -> tuple[str, str, str]:
    """An e-mail address and a phone number of contacts the user sees (a German mobile number when there
    is one), from the middle of the data, and that number as a person would type it."""
    where = "c.archived_at IS NULL" + (f" AND {visible}" if visible else "")
    cursor.execute(
        placeholders(
            "SELECT e.email FROM contacts_contactemail e JOIN contacts_contact c ON c.id = e.contact_id "
            f"WHERE {where} ORDER BY e.id"
        ),
        params,
    )
    emails = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        placeholders(
            "SELECT p.number FROM contacts_contactphone p JOIN contacts_contact c ON c.id = p.contact_id "
            f"WHERE {where} ORDER BY p.number LIKE %s DESC, p.id"
        ),
        [*params, "+491%"],
    )
    numbers = [row[0] for row in cursor.fetchall()]
    german = [n for n in numbers if n.startswith("+491")] or numbers
    number = german[len(german) // 2]
    typed = phonenumbers.format_number(
        phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return emails[len(emails) // 2], number, typed


def run(*, scale: int, db_url: str, **_) -> None:
    from django.db import connection

    from contacts.queries import global_search
    from core.search_providers import providers

    users = bench_users()
    reporter = Reporter("contacts-search", connection.vendor, scale)
    count = requests_per_case(scale)
    cursor = raw_cursor()
    through_server = any(entry.key == "contacts" for entry in providers())
    log(
        "global search: "
        + (
            "GET /search/suggest/?q=mar through the server"
            if through_server
            else "no contacts provider is registered for the search box, so contacts.queries.global_search() "
            "is timed in this process"
        )
    )

    with Server() as server:
        for label, user in (("admin", users.admin), ("member", users.member_few)):
            headers = bearer(user)
            visible, visible_params = visibility_sql(user)
            email, number, typed = _samples(cursor, visible, visible_params)
            log(f"{label}: 'mar', 'mar sch', {email!r}, {typed!r} (stored as {number}), global 'mar'")
            exact = (
                "{fields} FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id "
                "WHERE c.archived_at IS NULL AND c.id IN (SELECT x.contact_id FROM {table} x "
                "WHERE x.{column} = %s){visible} ORDER BY c.id DESC LIMIT %s"
            )
            searches = [
                (
                    "prefix",
                    "mar",
                    _fts_query("mar", "contact", CONTACT_FIELDS, visible, visible_params, LIMIT + 1, user),
                ),
                (
                    "two_prefixes",
                    "mar sch",
                    _fts_query(
                        "mar sch", "contact", CONTACT_FIELDS, visible, visible_params, LIMIT + 1, user
                    ),
                ),
            ]
            for name, text, table, column, value in (
                ("email", email, "contacts_contactemail", "email", email),
                ("phone", typed, "contacts_contactphone", "number", number),
            ):
                sql = exact.format(
                    fields=CONTACT_FIELDS,
                    table=table,
                    column=column,
                    visible=f" AND {visible}" if visible else "",
                )
                searches.append((name, text, (placeholders(sql), [value, *visible_params, LIMIT + 1])))

            for name, text, (floor_sql, floor_params) in searches:
                path = f"/api/v1/contacts?limit={LIMIT}&q={urllib.parse.quote(text)}"
                got = [item["id"] for item in json.loads(get_ok(server.port, path, headers))["items"]]
                cursor.execute(floor_sql, floor_params)
                expected = [row[0] for row in cursor.fetchall()][:LIMIT]
                if len(got) != len(expected):  # the order may differ (the API may rank), the count may not
                    raise RuntimeError(
                        f"{label} {name}: the API found {len(got)} contacts, the floor {len(expected)}"
                    )
                log(f"{label} {name}: {len(got)} results on the first page")

                samples = time_calls(
                    lambda path=path, headers=headers: get_ok(server.port, path, headers), count
                )

                def floor(sql=floor_sql, params=floor_params):
                    cursor.execute(sql, params)
                    cursor.fetchall()

                floor_samples = time_calls(floor, count)
                for p in (50, 95):
                    reporter.emit(
                        f"{label}_{name}_p{p}_ms", percentile(samples, p), percentile(floor_samples, p)
                    )

            # The search box looks for contacts and companies: the floor runs both index queries.
            limit = DROPDOWN_LIMIT if through_server else GLOBAL_LIMIT
            floors = [
                _fts_query("mar", "contact", CONTACT_FIELDS, visible, visible_params, limit, user),
                _fts_query("mar", "company", COMPANY_FIELDS, visible, visible_params, limit, user),
            ]
            if through_server:
                cookie = session_cookie(user)
                samples = time_calls(
                    lambda cookie=cookie: get_ok(server.port, "/search/suggest/?q=mar", cookie), count
                )
            else:
                samples = time_calls(lambda user=user: global_search(user, "mar"), count)

            def floor_both(floors=floors):
                for sql, params in floors:
                    cursor.execute(sql, params)
                    cursor.fetchall()

            floor_samples = time_calls(floor_both, count)
            for p in (50, 95):
                reporter.emit(f"{label}_global_p{p}_ms", percentile(samples, p), percentile(floor_samples, p))
    log(f"contacts-search: {count} sequential requests per case; floor = the index query in plain SQL.")
    log("Targets at 1,000,000 contacts: p95 <= 40 ms (<= 50 ms for the global search).")
