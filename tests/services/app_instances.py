"""Extra instances of the app: gunicorn processes on free loopback ports, sharing the test
database with the test (and with each other), for behaviour that must hold across instances."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from devservices.base import free_port, port_open, stop_process, wait_until

ROOT = Path(__file__).resolve().parents[2]


class AppInstance:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process


@pytest.fixture
def app_instances(transactional_db: None) -> Iterator[Callable[[int], list[AppInstance]]]:
    """`app_instances(2)` starts two gunicorn processes of the app on the test database
    (SQLite file or PostgreSQL); all are stopped after the test."""
    started: list[AppInstance] = []
    logs: list[Any] = []

    def start(count: int) -> list[AppInstance]:
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            database_url = f"sqlite:///{database['NAME']}"
        else:
            database_url = (
                f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
                f"{database['HOST']}:{database['PORT']}/{database['NAME']}"
            )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DATABASE_URL": database_url,
            "SANDBOX_ENABLED": "false",
        }
        for _ in range(count):
            port = free_port()
            log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
            logs.append(log)
            process = subprocess.Popen(  # noqa: S603 - fixed command line
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "viewer_admin.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                    "--no-control-socket",
                ],
                cwd=ROOT,
                env={**env, "PORT": str(port)},
                stdout=log,
                stderr=log,
            )
            instance = AppInstance(f"http://127.0.0.1:{port}", process)
            started.append(instance)
            wait_until(
                lambda port=port: port_open(port),
                what="gunicorn",
                timeout=60,
                process=process,
                log=Path(log.name),
            )
            httpx.get(f"{instance.url}/healthz", timeout=30)  # the first request loads Django
        return started[-count:]

    yield start
    for instance in started:
        stop_process(instance.process)
    for log in logs:
        log.close()
        Path(log.name).unlink(missing_ok=True)
