"""A full disk (issue 12, attack 7), for real: a tmpfs of a few MB holds the SQLite file, or the
PostgreSQL tablespace of the epochs, weights and point sets. Writes then answer 503 with a sentence and
Retry-After, and a run that cannot store its epoch ends `interrupted` saying the storage is full, never
`failed` with a generic reason; its recorded epochs are kept."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.store import FULL_MESSAGE, engine_url
from server.trainer import STORAGE_FULL_REASON
from tests.custom_points import xor_csv
from tests.server.helpers import is_sqlite, run_of, sql, start, wait_for

pytestmark = [
    pytest.mark.stores("sqlite", "postgres"),
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root"),
]

DISK_MB = 12
LEFT_MB = 1  # what the filler leaves free once the store is set up
LONG_2D = {"dataset": "spiral", "epochs": 1000, "points": 2000}


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A tmpfs of DISK_MB mounted for this test (under /tmp, where the PostgreSQL cluster's user can reach
    it), unmounted after it."""
    folder = Path(tempfile.mkdtemp(prefix="small-disk-"))
    folder.chmod(0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def fill(folder: Path, leave_bytes: int) -> Path:
    """A file that takes all of the disk but `leave_bytes`."""
    filler = folder / "filler"
    stats = os.statvfs(folder)
    size = stats.f_bavail * stats.f_frsize - leave_bytes
    with filler.open("wb") as out:
        for _ in range(size // 65536):
            out.write(b"\0" * 65536)
    return filler


SMALL_TABLES = ("epochs", "weights", "datasets")  # what a run's epochs and an upload write


def autocommit(database: str, statement: str) -> None:
    """A statement PostgreSQL runs outside a transaction only (CREATE/DROP TABLESPACE)."""
    engine = sa.create_engine(engine_url(database), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


@contextmanager
def tables_on_small_disk(database: str, folder: Path) -> Iterator[None]:
    """PostgreSQL: SMALL_TABLES in a tablespace on `folder` (the cluster's user owns it), moved back
    after."""
    user = pwd.getpwnam("postgres")
    os.chown(folder, user.pw_uid, user.pw_gid)
    name = f"small_{os.getpid()}_{int(time.time() * 1000)}"
    autocommit(database, f"CREATE TABLESPACE {name} LOCATION '{folder}'")
    for table in SMALL_TABLES:
        sql(database, f"ALTER TABLE {table} SET TABLESPACE {name}")
    try:
        yield
    finally:
        for table in SMALL_TABLES:
            sql(database, f"ALTER TABLE {table} SET TABLESPACE pg_default")
        autocommit(database, f"DROP TABLESPACE {name}")


def test_a_full_disk_answers_503_with_a_sentence_and_interrupts_the_run_saying_so(
    make_app, database, small_disk
):
    if is_sqlite(database):
        app = make_app(DATABASE=str(small_disk / "runs.sqlite3"))
        full_disk_story(app.test_client(), small_disk)
    else:
        with tables_on_small_disk(database, small_disk):
            app = make_app()
            full_disk_story(app.test_client(), small_disk)


def full_disk_story(client, small_disk: Path) -> None:
    filler = fill(small_disk, LEFT_MB * 1024 * 1024)
    run = start(client, LONG_2D)
    deadline = time.monotonic() + 60
    while True:  # the disk fills up as the run records its epochs
        upload = client.post("/api/data", data=xor_csv(2000, seed=int(time.monotonic() * 1000)))
        if upload.status_code == 503:
            break
        assert upload.status_code == 201, upload.get_json()
        assert time.monotonic() < deadline, "the disk never filled up"
        time.sleep(0.2)
    assert upload.get_json() == {"error": FULL_MESSAGE}
    assert int(upload.headers["Retry-After"]) > 0
    assert run_of(client, run["id"])["status"] in ("running", "interrupted")  # viewable, never failed

    filler.unlink()  # space again: whatever could not be stored ends as it should have
    ended = wait_for(client, run["id"], limit=30)
    assert ended["status"] == "interrupted" and ended["reason"] == STORAGE_FULL_REASON, ended
    assert 0 < len(ended["epochs"]) < LONG_2D["epochs"]  # the epochs recorded before are kept
    assert client.get(f"/api/runs/{run['id']}/timeline").status_code == 200
    assert start(client, {"dataset": "xor", "epochs": 3})["status"] == "queued"  # writes work again
