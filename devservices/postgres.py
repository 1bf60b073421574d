"""A throw-away PostgreSQL cluster (Debian's `postgresql` package) on a free loopback port.

Durability is switched off (fsync, synchronous commit): the data dies with the directory.
As root the cluster runs as the `postgres` system user, since PostgreSQL refuses to run as
root.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devservices.base import ServiceUnavailable, free_port, is_root, port_open, wait_until

ENV_VAR = "DATABASE_URL"
PACKAGE = "postgresql"


def _bindir() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(pg_ctl).parent
    raise ServiceUnavailable(
        "PostgreSQL is not installed. Install Debian's postgresql package "
        "(sudo apt-get install postgresql); script/test does it when run as root."
    )


def _run(command: list[str], *, as_postgres: bool) -> None:
    if as_postgres:
        command = ["runuser", "-u", "postgres", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ServiceUnavailable(
            f"{Path(command[-1] if as_postgres else command[0]).name} failed: "
            f"{' '.join(command)}\n{result.stdout}{result.stderr}"
        )


@contextmanager
def running() -> Iterator[str]:
    """Start a cluster; yields its URL, `postgres://postgres@127.0.0.1:PORT/postgres`."""
    bindir = _bindir()
    as_postgres = is_root()
    root = Path(tempfile.mkdtemp(prefix="viewer-admin-postgres-"))
    data, log = root / "data", root / "server.log"
    if as_postgres:
        shutil.chown(root, user="postgres", group="postgres")
    port = free_port()
    started = False
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            as_postgres=as_postgres,
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"],
            as_postgres=as_postgres,
        )
        started = True
        wait_until(lambda: port_open(port), what="PostgreSQL", log=log)
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run(  # noqa: S603
                [
                    *(["runuser", "-u", "postgres", "--"] if as_postgres else []),
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)
