"""orders: purchase-summary filters on contacts and the order list, through a real server.

On the standard benchmark database (bench/common.py) the demo commerce seed (commerce/seed.py, the bulk
path `orders_bulk_create`) adds a catalogue and about two orders per contact, once; later runs at the same
scale reuse them. Then, one request at a time through gunicorn:

- `GET /api/v1/contacts?filter=orders.count >= 3 and orders.last_date < 90d&limit=50` (the summary
  fields of the query language) for the admin and for a member in no team;
- `GET /api/v1/orders?limit=50` at page 1 and at a deep cursor in the middle of what the user sees.

Each figure's floor is the same query in plain SQL on the raw DB-API cursor in this process (same
visibility condition, same order, LIMIT 51), timed in the same run; the benchmark first checks that the
API and the floor return the same ids.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from urllib.parse import quote

from bench.common import (
    BENCH_SEED,
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
FILTER = "orders.count >= 3 and orders.last_date < 90d"
ORDER_SELECT = (
    "SELECT o.id, o.number, o.contact_id, o.company_id, o.ordered_at, o.status, o.currency, o.total, "
    "o.channel, o.notes, o.owner_id, o.team_id, o.version, o.created_at, o.updated_at, o.archived_at, "
    "c.first_name, c.last_name, c.email, co.name FROM commerce_order o "
    "LEFT JOIN contacts_contact c ON c.id = o.contact_id "
    "LEFT JOIN contacts_company co ON co.id = o.company_id"
)


def requests_per_case(scale: int) -> int:
    return 60 if scale <= 10_000 else 300


def orders_ensure(scale: int) -> None:
    from commerce.models import Order
    from commerce.seed import seed_commerce

    if Order.objects.exists():
        log(f"reusing the {Order.objects.count():,} orders already in the benchmark database")
        return
    log(f"adding about {2 * scale:,} orders through the bulk path …")
    started = time.perf_counter()
    result = seed_commerce(seed=BENCH_SEED, log=log)
    seconds = time.perf_counter() - started
    log(f"added {result.orders:,} orders in {seconds:,.1f} s ({result.orders / seconds:,.0f} orders/s)")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def order_visibility_sql(user) -> tuple[str, list]:
    """What commerce.queries.order_visibility_q selects, as SQL ("" for everything)."""
    from core.visibility import role_of

    if role_of(user) == "admin":
        return "", []
    contacts, contact_params = visibility_sql(user, "vc")
    companies, company_params = visibility_sql(user, "vco")
    sql = (
        f"(o.owner_id = %s OR o.contact_id IN (SELECT vc.id FROM contacts_contact vc WHERE {contacts}) "
        f"OR o.company_id IN (SELECT vco.id FROM contacts_company vco WHERE {companies}))"
    )
    return sql, [user.pk, *contact_params, *company_params]


def run(*, scale: int, db_url: str, **_) -> None:
    from django.db import connection
    from django.utils import timezone

    from core.pagination import cursor_encode

    orders_ensure(scale)
    users = bench_users()
    reporter = Reporter("orders", connection.vendor, scale)
    count = requests_per_case(scale)
    cursor = raw_cursor()
    cases = []
    for label, user in (("admin", users.admin), ("member", users.member_few)):
        # The summary filter on contacts.
        where, params = visibility_sql(user)
        moment = timezone.now() - dt.timedelta(days=90)
        if connection.vendor == "sqlite":  # stored as naive UTC text
            moment = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        floor_sql = placeholders(
            f"{CONTACT_SELECT} WHERE c.archived_at IS NULL{' AND ' + where if where else ''} AND EXISTS ("
            "SELECT 1 FROM commerce_contactpurchasesummary s WHERE s.contact_id = c.id "
            "AND s.order_count >= %s AND s.last_order_at < %s) ORDER BY c.id DESC LIMIT %s"
        )
        path = f"/api/v1/contacts?limit={LIMIT}&filter={quote(FILTER)}"
        cases.append((f"{label}_filter", user, path, floor_sql, [*params, 3, moment, LIMIT + 1]))
        # The order list, page 1 and deep.
        where, params = order_visibility_sql(user)
        where = f"o.archived_at IS NULL{' AND ' + where if where else ''}"
        cursor.execute(placeholders(f"SELECT count(*) FROM commerce_order o WHERE {where}"), params)
        visible = cursor.fetchone()[0]
        cursor.execute(
            placeholders(
                f"SELECT o.id FROM commerce_order o WHERE {where} ORDER BY o.id DESC LIMIT 1 OFFSET %s"
            ),
            [*params, visible // 2],
        )
        row = cursor.fetchone()
        log(f"{label}: sees {visible:,} orders; the deep cursor is at row {visible // 2:,}")
        for depth, after_id in (("page1", None), ("deep", row[0] if row else None)):
            path = f"/api/v1/orders?limit={LIMIT}"
            sql, floor_params = f"{ORDER_SELECT} WHERE {where}", list(params)
            if after_id is not None:
                path += f"&cursor={cursor_encode([after_id])}"
                sql += " AND o.id < %s"
                floor_params.append(after_id)
            floor_params.append(LIMIT + 1)
            cases.append(
                (
                    f"{label}_orders_{depth}",
                    user,
                    path,
                    placeholders(sql + " ORDER BY o.id DESC LIMIT %s"),
                    floor_params,
                )
            )

    with Server() as server:
        for name, user, path, floor_sql, floor_params in cases:
            headers = bearer(user)
            body = json.loads(get_ok(server.port, path, headers))
            cursor.execute(floor_sql, floor_params)
            expected = [row[0] for row in cursor.fetchall()][:LIMIT]
            got = [item["id"] for item in body["items"]]
            if got != expected:
                raise RuntimeError(f"{name}: the API answered ids {got[:3]}… but the floor {expected[:3]}…")
            samples = time_calls(lambda path=path, headers=headers: get_ok(server.port, path, headers), count)

            def floor(sql=floor_sql, params=floor_params):
                cursor.execute(sql, params)
                cursor.fetchall()

            floor_samples = time_calls(floor, count)
            for p in (50, 95):
                reporter.emit(f"{name}_p{p}_ms", percentile(samples, p), percentile(floor_samples, p))
    log(f"orders: {count} sequential requests per case through gunicorn -w 2; floor = the same query in")
    log("plain SQL on the raw cursor, same run.")
