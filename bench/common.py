"""What every benchmark shares: the benchmark database, its users and tokens, a real server, a load
generator, timing helpers, and the JSON line printer.

Output contract (docs: ARCHITECTURE.md §6): one JSON line per figure on stdout,

    {"bench": "contacts-list", "db": "sqlite", "scale": 1000000, "metric": "admin_page1_p95_ms",
     "value": 7.9, "floor": 2.1, "ratio": 3.8, "peak_rss_mb": 210}

with `ratio` = value / floor for times and floor / value for rates, so lower is always better. Everything
meant for people goes to stderr.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BENCH_SEED = 424242
# Bump when contacts/seed.py changes what it generates, so cached benchmark databases are rebuilt.
GENERATOR_VERSION = "seed-1"
# Benchmark databases from this scale up are kept after a run (they take minutes to build); smaller ones are
# dropped unless --keep is given.
KEEP_FROM_SCALE = 100_000
MARKER_TABLE = "crm_bench_marker"
LOOPBACK = "127.0.0.1"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# Figures


def peak_rss_mb() -> float:
    """The peak resident memory of this process or any finished child (the seed's validation process, the
    server's workers), in MB. Linux reports ru_maxrss in KB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


class PrivateMemory:
    """The peak private (anonymous) memory of this process and its children, sampled every 0.2 s while
    the block runs, in MB: Python's heap, SQLite's page cache, the forked validation process — without
    the pages of the database file that SQLite maps (`mmap_size`), which the kernel shares and can drop,
    and which `peak_rss_mb` counts. Linux only (reads /proc); elsewhere the figure stays 0.

        with PrivateMemory() as memory:
            work()
        memory.peak_mb
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _anon_kb(pid: int | str) -> int:
        """Proportional anonymous memory (Pss_Anon): pages a forked child still shares with its parent
        count half in each, so parent + child is what both hold together. RssAnon where the kernel has no
        smaps_rollup."""
        for path, field in ((f"/proc/{pid}/smaps_rollup", "Pss_Anon:"), (f"/proc/{pid}/status", "RssAnon:")):
            try:
                with open(path) as status:
                    for line in status:
                        if line.startswith(field):
                            return int(line.split()[1])
            except OSError:
                continue
        return 0

    def sample(self) -> float:
        pid = os.getpid()
        total = self._anon_kb(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                total += sum(self._anon_kb(child) for child in handle.read().split())
        except OSError:
            pass
        return total / 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PrivateMemory:
        self.peak_mb = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = round(max(self.peak_mb, self.sample()), 1)


def percentile(samples: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    k = (len(ordered) - 1) * p / 100
    low = math.floor(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


@dataclass
class Reporter:
    bench: str
    db: str
    scale: int

    def emit(self, metric: str, value: float, floor: float, *, rate: bool = False, **extra) -> dict:
        """Print one figure. Times in ms (ratio value/floor), rates per second (ratio floor/value);
        `extra` adds fields to the line (e.g. `peak_private_mb`)."""
        ratio = (floor / value if value else math.inf) if rate else (value / floor if floor else math.inf)
        line = {
            "bench": self.bench,
            "db": self.db,
            "scale": self.scale,
            "metric": metric,
            "value": round(value, 3),
            "floor": round(floor, 3),
            "ratio": round(ratio, 2),
            "peak_rss_mb": peak_rss_mb(),
            **extra,
        }
        print(json.dumps(line), flush=True)
        return line


# A case stops after this long even if it has not made its `count` calls (with at least MIN_SAMPLES), so
# a slow endpoint cannot stretch a benchmark without bound.
CASE_SECONDS = 60.0
MIN_SAMPLES = 20


def time_calls(
    func: Callable[[], object], count: int, *, warmup: int = 3, seconds: float = CASE_SECONDS
) -> list[float]:
    """Milliseconds per call: `count` calls after `warmup` unmeasured ones, or fewer (at least
    MIN_SAMPLES) if they take longer than `seconds` in all."""
    for _ in range(warmup):
        func()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    for _ in range(count):
        started = time.perf_counter()
        func()
        now = time.perf_counter()
        samples.append((now - started) * 1000)
        if now > deadline and len(samples) >= MIN_SAMPLES:
            log(f"  (stopped after {len(samples)} of {count} calls: {seconds:.0f} s per case)")
            break
    return samples


def calls_per_second(func: Callable[[], object], seconds: float) -> float:
    """How many times `func` runs per second, single-threaded, for about `seconds`."""
    for _ in range(20):
        func()
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(50):
            func()
        done += 50
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - started)


# ---------------------------------------------------------------------------------------------------------
# The benchmark database: one per scale, filled by the demo seed, reused while its marker matches


def bench_database_url(scale: int, db_url: str | None, var_dir: Path) -> str:
    """SQLite under var/bench/ unless `db_url` names a PostgreSQL server (then `crm_bench_<scale>` on it)."""
    if db_url:
        parsed = urlparse(db_url)
        if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
            return urlunparse(parsed._replace(path=f"/crm_bench_{scale}"))
        if parsed.scheme != "sqlite":
            raise ValueError(f"unsupported --db-url scheme {parsed.scheme!r} (use postgres:// or sqlite://)")
    return f"sqlite:///{var_dir / 'bench' / f'crm_bench_{scale}.sqlite3'}"


def vendor_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgresql"


def _sqlite_path(url: str) -> Path:
    return Path(urlparse(url).path)


def _postgres_admin(url: str):
    import psycopg

    maintenance = urlunparse(urlparse(url)._replace(path="/postgres"))
    return psycopg.connect(maintenance, autocommit=True)


def _database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def marker_read(url: str) -> dict | None:
    """The marker a completed fill left, or None (no database, no marker, or an interrupted fill)."""
    query = f"SELECT scale, generator, seconds, contacts_per_second FROM {MARKER_TABLE}"  # noqa: S608
    try:
        if vendor_of(url) == "sqlite":
            path = _sqlite_path(url)
            if not path.exists():
                return None
            with contextlib.closing(sqlite3.connect(path)) as db:
                row = db.execute(query).fetchone()
        else:
            import psycopg

            with psycopg.connect(url, connect_timeout=5) as db:
                row = db.execute(query).fetchone()
    except Exception:  # missing database or table: not reusable
        return None
    if row is None:
        return None
    return {"scale": row[0], "generator": row[1], "seconds": row[2], "contacts_per_second": row[3]}


def database_reset(url: str) -> None:
    """Drop the benchmark database if it exists and create it empty."""
    if vendor_of(url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = _database_name(url)
    with _postgres_admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    if vendor_of(url) == "sqlite":
        path = _sqlite_path(url)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with _postgres_admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_database_name(url)}" WITH (FORCE)')


def prepare(scale: int) -> dict:
    """Inside the benchmark process (Django's default database is the benchmark database): migrate, and
    fill it with the demo seed unless a matching marker says it is already filled."""
    from django.core.management import call_command
    from django.db import connection

    from contacts.seed import seed

    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (scale bigint, generator varchar(50), "
            "seconds double precision, contacts_per_second double precision)"
        )
        cursor.execute(f"SELECT scale, generator, seconds, contacts_per_second FROM {MARKER_TABLE}")  # noqa: S608
        row = cursor.fetchone()
    if row is not None and row[0] == scale and row[1] == GENERATOR_VERSION:
        log(f"reusing the benchmark database ({scale:,} contacts, filled at {row[3]:,.0f} contacts/s)")
        bench_users()
        return {"seconds": row[2], "contacts_per_second": row[3], "reused": True}
    log(f"filling the benchmark database with {scale:,} demo contacts …")
    started = time.perf_counter()
    result = seed(scale=scale, seed=BENCH_SEED, password=None, log=log)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rate = result.contacts / seconds if seconds else 0.0
    log(f"filled in {seconds:,.1f} s: {rate:,.0f} contacts/s overall (companies, users and search included)")
    bench_users()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (scale, generator, seconds, contacts_per_second) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            [scale, GENERATOR_VERSION, seconds, rate],
        )
    return {"seconds": seconds, "contacts_per_second": rate, "reused": False}


# ---------------------------------------------------------------------------------------------------------
# Users, tokens and sessions


@dataclass
class BenchUsers:
    admin: object  # sees everything
    member_few: object  # a member in no team: sees only their own few records
    member_team: object  # a member of a sales team: sees the team's records


def bench_users() -> BenchUsers:
    from contacts.seed import DEMO_USERS
    from users.models import User
    from users.services import user_create

    admin = User.objects.filter(username="bench-admin").first()
    if admin is None:
        admin = user_create(actor=None, data={"username": "bench-admin", "role": "admin"})
    loner = next(u[0] for u in DEMO_USERS if u[4] is None)
    teammate = next(u[0] for u in DEMO_USERS if u[3] == "member" and u[4] == "Sales EMEA")
    return BenchUsers(
        admin=admin,
        member_few=User.objects.get(username=loner),
        member_team=User.objects.get(username=teammate),
    )


def bearer(user) -> dict[str, str]:
    from users.services import token_create

    _, secret = token_create(actor=None, user=user, name="benchmark")
    return {"Authorization": f"Bearer {secret}"}


def session_cookie(user) -> dict[str, str]:
    """A signed-in browser session for `user`, as the login view would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


# ---------------------------------------------------------------------------------------------------------
# A real server: gunicorn with two sync workers (one per core), on a free loopback port


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Server:
    """`gunicorn crm.wsgi:application -w 2` against the benchmark database, for the length of a `with`."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        base_dir = Path(__file__).resolve().parent.parent
        command = [
            sys.executable, "-m", "gunicorn", "crm.wsgi:application",
            "-w", str(self.workers), "-b", f"{LOOPBACK}:{self.port}",
            "--log-level", "warning", "--graceful-timeout", "5",
        ]  # fmt: skip
        log(f"server: {' '.join(command[2:])}")
        self.process = subprocess.Popen(  # noqa: S603 (a fixed argument list, no shell)
            command, cwd=base_dir, env=os.environ.copy(), stdout=sys.stderr
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited while starting; see its messages above")
            with contextlib.suppress(OSError):
                if get(self.port, "/api/v1/health")[0] == 200:
                    # One request per worker so neither pays its first-request set-up in a measurement.
                    for _ in range(self.workers * 2):
                        get(self.port, "/api/v1/health")
                    return self
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("the server did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One GET on a fresh connection (gunicorn's sync workers close the connection after each answer)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_ok(port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    status, body = get(port, path, headers)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
    return body


# ---------------------------------------------------------------------------------------------------------
# Load: wrk when it is installed, else a bounded Python load generator


@dataclass
class LoadResult:
    requests_per_second: float
    requests: int
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    tool: str


def load(
    port: int, paths: list[str], headers: dict[str, str], *, connections: int, seconds: float
) -> LoadResult:
    """Drive GETs on `paths` (in turn) with `connections` concurrent clients for `seconds`."""
    if shutil.which("wrk"):
        return _load_wrk(port, paths, headers, connections=connections, seconds=seconds)
    log(
        "wrk is not installed (apt-get install wrk): using the Python load generator, which competes with the"
    )
    log("server for the same two cores and so reads lower than wrk would")
    return _load_python(port, paths, headers, connections=connections, seconds=seconds)


_WRK_SCRIPT = """
local paths = {%(paths)s}
local headers = {%(headers)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("CRMBENCH %%d %%d %%d %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.duration, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _load_wrk(port, paths, headers, *, connections, seconds) -> LoadResult:
    script = _WRK_SCRIPT % {
        "paths": ", ".join(_lua(p) for p in paths),
        "headers": ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", handle.name,
                   f"http://{LOOPBACK}:{port}/"]  # fmt: skip
        output = subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
            command, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next(line for line in output.splitlines() if line.startswith("CRMBENCH "))
    requests, errors, duration_us, p50, p99 = line.split()[1:]
    rps = int(requests) / (int(duration_us) / 1e6)
    return LoadResult(rps, int(requests), int(errors), float(p50), float(p99), "wrk")


def _load_python(port, paths, headers, *, connections, seconds) -> LoadResult:
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0}

    def worker(offset: int) -> None:
        done, errors, mine = 0, 0, []
        index = offset
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            index += connections
            started = time.perf_counter()
            try:
                status, _ = get(port, path, headers)
            except OSError:
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            done += 1
            errors += status != 200
        with lock:
            counts["requests"] += done
            counts["errors"] += errors
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return LoadResult(
        counts["requests"] / elapsed,
        counts["requests"],
        counts["errors"],
        percentile(latencies, 50),
        percentile(latencies, 99),
        "python",
    )


# ---------------------------------------------------------------------------------------------------------
# The floors' SQL: written by hand, executed on the raw DB-API cursor


CONTACT_SELECT = (
    "SELECT c.id, c.prefix, c.first_name, c.middle_name, c.last_name, c.suffix, c.email, c.phone, "
    "c.job_title, c.birthday, c.company_id, c.lifecycle_stage, c.source, c.owner_id, c.team_id, c.custom, "
    "c.version, c.created_at, c.updated_at, c.archived_at, co.name "
    "FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id"
)


def visibility_sql(user, alias: str = "c") -> tuple[str, list]:
    """What core.visibility.visibility_q(user, "view") selects, as SQL ("" for everything)."""
    from core.visibility import role_of

    role = role_of(user)
    if role == "admin":
        return "", []
    if role == "manager":
        owners = list(user.managed_user_ids)
        sql = f"{alias}.owner_id IN ({', '.join(['%s'] * len(owners))})"
        params: list = owners
    else:
        sql, params = f"{alias}.owner_id = %s", [user.pk]
    teams = list(user.team_ids)
    if teams:
        sql = f"({sql} OR {alias}.team_id IN ({', '.join(['%s'] * len(teams))}))"
        params = [*params, *teams]
    return sql, params


def raw_cursor():
    """The DB-API cursor under Django's wrapper: psycopg's or sqlite3's own (write the SQL with %s and pass
    it through `placeholders`)."""
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.cursor()


def csv_floor(path: str, vendor: str, tables: dict[str, str], rows_of, batch_size: int = 5000) -> float:
    """The raw floor of a file import, in rows per second: the CSV file read with `csv.reader` and, per
    `batch_size` rows, `rows_of(batch, state)` → {table: rows} written into temporary tables
    `bench_floor_<table>` (`tables`: name → column definitions) with one raw `executemany` (SQLite) or
    COPY (PostgreSQL) per table; `state` is a dict the callback keeps between batches. No validation,
    lookups, history, events or search."""
    import csv

    cursor = raw_cursor()
    postgres = vendor == "postgresql"
    for name, columns in tables.items():
        cursor.execute(f"DROP TABLE IF EXISTS bench_floor_{name}")
        cursor.execute(f"CREATE TEMP TABLE bench_floor_{name} ({columns})")
    started = time.perf_counter()
    rows = 0
    state: dict = {}

    def write(batch: list) -> None:
        for name, values in rows_of(batch, state).items():
            if not values:
                continue
            if postgres:
                with cursor.copy(f"COPY bench_floor_{name} FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in values[0])
                cursor.executemany(f"INSERT INTO bench_floor_{name} VALUES ({marks})", values)  # noqa: S608

    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list = []
        for row in reader:
            rows += 1
            batch.append(row)
            if len(batch) == batch_size:
                write(batch)
                batch = []
        if batch:
            write(batch)
    if not postgres:
        cursor.connection.commit()
    seconds = time.perf_counter() - started
    for name in tables:
        cursor.execute(f"DROP TABLE bench_floor_{name}")
    return rows / seconds if seconds else 0.0


def placeholders(sql: str) -> str:
    from django.db import connection

    return sql.replace("%s", "?") if connection.vendor == "sqlite" else sql
