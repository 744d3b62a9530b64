"""contacts-get: requests per second of `GET /api/v1/contacts/{id}` under a real server.

gunicorn with two sync workers (one per core) serves the benchmark database; `wrk` (if installed, else a
bounded Python load generator: threads, one request per connection as the sync workers close it) drives it
with 8 connections for 10 s (3 s below 100,000 contacts), as a member of a sales team, in turn over 1,000
contacts that member may see. Every answer must be 200.

The floor is what the database alone does for the same read, in this process on one core: the raw SQL
fetch of one such contact (same columns, company name, visibility) per call on the DB-API cursor, in
calls per second. It is a ceiling no web stack reaches — HTTP, token check, JSON and the related lists
cost more than the row — so read the ratio as "how many row fetches one request costs".
"""

from __future__ import annotations

import json

from bench.common import (
    CONTACT_SELECT,
    Reporter,
    Server,
    bearer,
    bench_users,
    calls_per_second,
    get_ok,
    load,
    log,
    placeholders,
    raw_cursor,
    visibility_sql,
)

CONNECTIONS = 8
SAMPLE = 1000


def run(*, scale: int, db_url: str, **_) -> None:
    from django.db import connection

    users = bench_users()
    user = users.member_team
    reporter = Reporter("contacts-get", connection.vendor, scale)
    cursor = raw_cursor()
    visible, params = visibility_sql(user)
    where = "c.archived_at IS NULL" + (f" AND {visible}" if visible else "")
    cursor.execute(placeholders(f"SELECT c.id FROM contacts_contact c WHERE {where} ORDER BY c.id"), params)
    ids = [row[0] for row in cursor.fetchall()]
    step = max(1, len(ids) // SAMPLE)
    ids = ids[::step][:SAMPLE]
    log(f"{user.username} sees {len(ids) * step:,}+ contacts; requesting {len(ids):,} of them in turn")

    floor_sql = placeholders(f"{CONTACT_SELECT} WHERE c.id = %s AND {where}")
    position = iter(range(10**12))

    def fetch_one():
        cursor.execute(floor_sql, [ids[next(position) % len(ids)], *params])
        if cursor.fetchone() is None:
            raise RuntimeError("the floor query found nothing")

    floor = calls_per_second(fetch_one, 2.0)
    seconds = 10.0 if scale >= 100_000 else 3.0
    headers = bearer(user)
    paths = [f"/api/v1/contacts/{pk}" for pk in ids]
    with Server() as server:
        body = json.loads(get_ok(server.port, paths[0], headers))
        if body.get("id") != ids[0]:
            raise RuntimeError(f"GET {paths[0]} answered another record: {body.get('id')}")
        result = load(server.port, paths, headers, connections=CONNECTIONS, seconds=seconds)
    log(
        f"{result.tool}: {result.requests:,} requests in {seconds:.0f} s with {CONNECTIONS} connections, "
        f"{result.errors} errors, latency p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
    )
    if result.errors:
        raise RuntimeError(f"{result.errors} requests failed (non-200 answers or connection errors)")
    reporter.emit("requests_per_s", result.requests_per_second, floor, rate=True)
    log(
        "floor: raw SQL fetches of one visible contact per second, one core, in process. Target at 1M: 800/s."
    )
