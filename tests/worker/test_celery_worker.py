"""A real Celery worker process (``shipdraft worker``) on the local Redis or RabbitMQ drafts stored messages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agent.pipeline import Outcome
from shipdraft.runner import ingest, one_pass
from shipdraft.settings import Executor, Settings
from shipdraft.wiring import Database, open_runtime
from tests.conftest import require_service
from tests.helpers import make_email
from worker.app import PROCESS_MESSAGE, PROCESS_MESSAGES, create_celery

pytestmark = pytest.mark.anyio

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/14", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}
RESULTS = "redis://127.0.0.1:6379/15"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    url, port = BROKERS[request.param]
    if not _port_open(port):
        require_service(request.param, f"nothing listens on 127.0.0.1:{port}")
    if not _port_open(6379):
        require_service("redis", "the result backend needs Redis on 127.0.0.1:6379")
    return url


@pytest.fixture
def worker_settings(broker: str, database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "var", broker_url=broker,
                    result_backend=RESULTS, executor=Executor.CELERY)


@pytest.fixture
def worker(worker_settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "SHIPDRAFT_DATABASE_URL": worker_settings.database_url.get_secret_value(),  # type: ignore[union-attr]
           "SHIPDRAFT_DATA_DIR": str(worker_settings.data_dir),
           "SHIPDRAFT_BROKER_URL": worker_settings.broker_url.get_secret_value(),
           "SHIPDRAFT_RESULT_BACKEND": RESULTS, "SHIPDRAFT_LOG_LEVEL": "INFO"}
    create_celery(settings=worker_settings).control.purge()
    log = open(worker_settings.data_dir.parent / "worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "shipdraft.cli", "worker", "--concurrency", "1"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_drafted(url: str, expected: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM messages WHERE state = 'drafted'").fetchone()
        n = int(row[0]) if row else 0
        if n >= expected:
            return n
        time.sleep(0.2)
    return n


async def test_worker_drafts_enqueued_messages_once(worker: subprocess.Popen[bytes], worker_settings: Settings,
                                                    database_url: str) -> None:
    async with open_runtime(settings=worker_settings, database=Database(url=database_url, embedded=None)) as rt:
        root: Path = rt.provider.root  # type: ignore[attr-defined]
        for i in range(3):
            (root / "new" / f"m{i}").write_bytes(make_email(body=f"Hei, status for ordre NK20411{7 + i}?"))
        summary = await one_pass(runtime=rt)  # ingest, then enqueue (executor=celery): one batch task
        assert summary.enqueued == 3 and summary.results == []
        assert _wait_drafted(database_url, 3) == 3, (worker.args, worker.poll())

        # the same task delivered again (a redelivery after a broker hiccup) posts nothing new
        (root / "new" / "m9").write_bytes(make_email(body="Hvor er ordre NK204131?"))
        await ingest(runtime=rt)
        [pk] = await rt.messages.pending_ids(mailbox="ops", max_attempts=5)
        assert rt.celery is not None
        first = rt.celery.send_task(PROCESS_MESSAGE, args=[pk]).get(timeout=60)
        second = rt.celery.send_task(PROCESS_MESSAGE, args=[pk]).get(timeout=60)
        assert first["outcome"] == Outcome.DRAFTED
        assert second["outcome"] == Outcome.NOT_CLAIMED
        assert len(list((root / ".Drafts" / "cur").iterdir())) == 4

        # a batch task drafts its messages together; delivered again, it posts nothing new
        for i in range(3):
            (root / "new" / f"b{i}").write_bytes(make_email(body=f"Status ordre NK20412{i}?"))
        await ingest(runtime=rt)
        pks = await rt.messages.pending_ids(mailbox="ops", max_attempts=5)
        assert len(pks) == 3
        batch = rt.celery.send_task(PROCESS_MESSAGES, args=[pks]).get(timeout=60)
        again = rt.celery.send_task(PROCESS_MESSAGES, args=[pks]).get(timeout=60)
        assert [r["message_pk"] for r in batch] == pks and {r["outcome"] for r in batch} == {Outcome.DRAFTED}
        assert {r["outcome"] for r in again} == {Outcome.NOT_CLAIMED}
        assert len(list((root / ".Drafts" / "cur").iterdir())) == 7
