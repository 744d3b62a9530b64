"""contacts-list: `GET /api/v1/contacts?limit=50` through a real server, at page 1 and at a deep cursor.

Measured for an administrator (sees every contact) and for a member in no team (sees only their own few
hundred or thousand: the case where a plan that walks the primary key and filters is slow). The deep cursor
sits in the middle of what the user sees: page 10,000 of 20,000 for the admin at 1,000,000 contacts.

Requests go one at a time (one client connection) to gunicorn with two sync workers, so the figure is
the latency of one request: token look-up, visibility, keyset query, the page's related lists and JSON.
The floor is the same keyset query (same columns, same visibility, same cursor, LIMIT 51) in plain SQL on
the raw DB-API cursor in this process, timed in the same run.
"""

from __future__ import annotations

import json

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
    time_calls,
    visibility_sql,
)

LIMIT = 50


def requests_per_case(scale: int) -> int:
    return 60 if scale <= 10_000 else 300


def run(*, scale: int, db_url: str, **_) -> None:
    from django.db import connection

    from core.pagination import cursor_encode

    users = bench_users()
    reporter = Reporter("contacts-list", connection.vendor, scale)
    count = requests_per_case(scale)
    cursor = raw_cursor()
    cases = []
    for label, user in (("admin", users.admin), ("member", users.member_few)):
        where, params = visibility_sql(user)
        where = f"c.archived_at IS NULL{' AND ' + where if where else ''}"
        cursor.execute(placeholders(f"SELECT count(*) FROM contacts_contact c WHERE {where}"), params)
        visible = cursor.fetchone()[0]
        cursor.execute(
            placeholders(
                f"SELECT c.id FROM contacts_contact c WHERE {where} ORDER BY c.id DESC LIMIT 1 OFFSET %s"
            ),
            [*params, visible // 2],
        )
        deep_id = cursor.fetchone()[0]
        page = visible // 2 // LIMIT + 1
        log(f"{label}: sees {visible:,} contacts; the deep cursor is at row {visible // 2:,} (page {page:,})")
        cases.append((label, user, "page1", where, params, None))
        cases.append((label, user, "deep", where, params, deep_id))

    with Server() as server:
        for label, user, depth, where, params, after_id in cases:
            headers = bearer(user)
            path = f"/api/v1/contacts?limit={LIMIT}"
            floor_sql = f"{CONTACT_SELECT} WHERE {where}"
            floor_params = list(params)
            if after_id is not None:
                path += f"&cursor={cursor_encode([after_id])}"
                floor_sql += " AND c.id < %s"
                floor_params.append(after_id)
            floor_sql = placeholders(floor_sql + " ORDER BY c.id DESC LIMIT %s")
            floor_params.append(LIMIT + 1)

            body = json.loads(get_ok(server.port, path, headers))
            cursor.execute(floor_sql, floor_params)
            expected = [row[0] for row in cursor.fetchall()][:LIMIT]
            got = [item["id"] for item in body["items"]]
            if got != expected:
                raise RuntimeError(
                    f"{label} {depth}: the API answered ids {got[:3]}… but the floor {expected[:3]}…"
                )

            samples = time_calls(lambda path=path, headers=headers: get_ok(server.port, path, headers), count)

            def floor(sql=floor_sql, params=floor_params):
                cursor.execute(sql, params)
                cursor.fetchall()

            floor_samples = time_calls(floor, count)
            for p in (50, 95):
                reporter.emit(
                    f"{label}_{depth}_p{p}_ms", percentile(samples, p), percentile(floor_samples, p)
                )
    log(
        f"contacts-list: {count} sequential requests per case through gunicorn -w 2; floor = the keyset query"
    )
    log("in plain SQL on the raw cursor, same run. Target at 1,000,000 contacts: p95 <= 25 ms at any depth.")
