"""The real task worker (`manage.py import_worker`, i.e. django-tasks' `db_worker`) as a
subprocess against the test database and the sandbox served by live_server.

`task_worker()` starts one and returns it; `.kill()` ends it at once (SIGKILL, as a crash
would), `.stop()` asks it to finish (SIGTERM). Every worker still running is stopped when the
test ends, before the test database is flushed. Needs @pytest.mark.django_db(transaction=True)
(the worker only sees committed rows).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.services import subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]
STALE_AFTER_SECONDS = 1.0
SENDING_STALE_SECONDS = 8.0


class TaskWorker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "import_worker",
                    "--no-reload",
                    "--no-startup-delay",
                    "--interval",
                    "0.1",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End it at once, mid-task: like a crash or an OOM kill."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def task_worker(
    sandbox_url: str, live_server: Any, settings: Any, transactional_db: None
) -> Iterator[Callable[..., TaskWorker]]:
    """Start real task workers: `task_worker(parallel=4)`. The web side (live_server) and the
    workers agree that an import silent for STALE_AFTER_SECONDS was abandoned."""
    settings.IMPORT_STALE_AFTER_SECONDS = STALE_AFTER_SECONDS
    settings.SUBMISSION_SENDING_STALE_SECONDS = SENDING_STALE_SECONDS
    workers: list[TaskWorker] = []
    logs = Path(tempfile.mkdtemp(prefix="viewer-admin-worker-"))

    def start(*, parallel: int = 4) -> TaskWorker:
        env = {
            **os.environ,
            "DJANGO_ENV": "local",
            "DJANGO_SETTINGS_MODULE": "viewer_admin.settings",  # not the test run's settings
            "DATABASE_URL": subprocess_database_url(),
            "VIEWER_API_BASE_URL": sandbox_url,
            "VIEWER_API_KEY": django_settings.VIEWER_API_KEY,
            "IMPORT_PARALLEL_ROWS": str(parallel),
            "IMPORT_STALE_AFTER_SECONDS": str(STALE_AFTER_SECONDS),
            # A killed worker's rows in flight are sent again soon (their calls are short).
            "SUBMISSION_SENDING_STALE_SECONDS": str(SENDING_STALE_SECONDS),
            "PYTHONUNBUFFERED": "1",
        }
        worker = TaskWorker(env, logs / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    for worker in workers:
        if worker.process.returncode not in (0, -signal.SIGKILL, -signal.SIGTERM):
            print(worker.output())
