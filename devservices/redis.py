"""A throw-away Redis server (Debian's `redis-server` package) on a free loopback port, with
persistence off."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devservices.base import free_port, port_open, require_executable, stop_process, wait_until

ENV_VAR = "REDIS_URL"
PACKAGE = "redis-server"


@contextmanager
def running() -> Iterator[str]:
    """Start a server; yields its URL, `redis://127.0.0.1:PORT/0`."""
    executable = require_executable(["redis-server"], package=PACKAGE)
    root = Path(tempfile.mkdtemp(prefix="viewer-admin-redis-"))
    log = root / "server.log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [
                executable,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(root),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: port_open(port), what="redis-server", process=process, log=log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)
