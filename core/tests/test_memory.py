"""core.memory: the page cache and checkpoint limits of a bulk job are applied and put back; free_heap hands
pages back."""

from __future__ import annotations

import io
import platform

import pytest
from django.db import connection

from core import memory
from imports import engine, services
from imports.models import ImportJob
from imports.tests.test_imports import PEOPLE, csv_bytes

pytestmark = pytest.mark.django_db


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_sqlite_cache_is_limited_within_the_block_and_restored_after():
    before = _cache_size()
    with memory.sqlite_cache(1024):
        assert _cache_size() == -1024
    assert _cache_size() == before
    with pytest.raises(RuntimeError), memory.sqlite_cache(2048):
        assert _cache_size() == -2048
        raise RuntimeError("a failing job")
    assert _cache_size() == before


def _autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL")
def test_sqlite_checkpoints_are_spaced_within_the_block_and_restored_after():
    before = _autocheckpoint()
    with memory.sqlite_checkpoints(50_000):
        assert _autocheckpoint() == 50_000
    assert _autocheckpoint() == before
    with pytest.raises(RuntimeError), memory.sqlite_checkpoints(20_000):
        assert _autocheckpoint() == 20_000
        raise RuntimeError("a failing job")
    assert _autocheckpoint() == before


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's WAL")
@pytest.mark.django_db(transaction=True)
def test_sqlite_checkpoints_once_at_the_end_outside_a_transaction():
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record), memory.sqlite_checkpoints(50_000), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert statements[-1] == "PRAGMA wal_checkpoint(PASSIVE)"
    assert statements.count("PRAGMA wal_checkpoint(PASSIVE)") == 1


def test_sqlite_cache_and_checkpoints_are_no_ops_elsewhere():
    if connection.vendor == "sqlite":
        pytest.skip("covered above")
    with memory.sqlite_cache(1024), memory.sqlite_checkpoints(1024), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


def test_free_heap_trims_glibc_and_is_harmless_elsewhere():
    done = memory.free_heap()
    assert done is (platform.libc_ver()[0] == "glibc")
    blocks = [bytearray(64 * 1024) for _ in range(200)]
    del blocks
    assert memory.free_heap() is done


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_an_import_runs_with_the_job_cache_and_checkpoints_and_puts_the_web_values_back(org, monkeypatch):
    seen: list[tuple[int, int]] = []
    process = engine.ImportRun.process

    def spying(self, batch):
        seen.append((_cache_size(), _autocheckpoint()))
        return process(self, batch)

    monkeypatch.setattr(engine.ImportRun, "process", spying)
    before = (_cache_size(), _autocheckpoint())
    job = services.import_create(
        actor=org.owner,
        kind="contacts",
        upload=io.BytesIO(csv_bytes(PEOPLE)),
        file_name="people.csv",
        key="email",
        create_companies=True,
        start=False,
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.PENDING)
    job = engine.job_run(job.pk)
    assert job.status == ImportJob.Status.DONE and job.created_count == 2
    assert seen == [(-engine.JOB_CACHE_KIB, engine.JOB_CHECKPOINT_PAGES)]
    assert (_cache_size(), _autocheckpoint()) == before
