"""gunicorn instances for the benchmark: the "upstream" (the sandbox standing in for the Viewer
API) and the app instances that talk to it, all on free loopback ports, plus their memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from devservices.base import free_port

ROOT: Final = Path(__file__).resolve().parent.parent
API_KEY: Final = "sandbox-demo-key"
STARTUP_TIMEOUT_SECONDS: Final = 60.0
APP_WORKERS: Final = 2
APP_THREADS: Final = 8
# The upstream serves every app instance's API calls plus the benchmark's bare calls, and each
# waits out the injected latency on a thread: give it enough of them not to queue.
UPSTREAM_WORKERS: Final = 2
UPSTREAM_THREADS: Final = 32
# Like a real API, the upstream keeps idle connections open longer than gunicorn's 2 s default,
# so the app's pooled connections are not closed under its feet between calls.
UPSTREAM_KEEP_ALIVE_SECONDS: Final = 75


class BenchmarkError(Exception):
    """The benchmark could not run (setup, sign-in or an unexpected answer)."""


def environment(
    database_url: str, api_base_url: str, *, sandbox: bool, redis_url: str = ""
) -> dict[str, str]:
    """The environment of one instance (and of this process, for seeding and counting);
    `redis_url` empty: the database cache."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "viewer_admin.settings",
            "DJANGO_ENV": "local",
            "DJANGO_DEBUG": "false",
            # testserver: Django's test client, which counts the database queries in-process.
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DATABASE_URL": database_url,
            "VIEWER_API_BASE_URL": api_base_url,
            "VIEWER_API_KEY": API_KEY,
            "SANDBOX_ENABLED": "true" if sandbox else "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "VIEWER_API_CACHE_SECONDS",
        "REDIS_URL",
        "PORT",
    ):
        env.pop(name, None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@dataclass
class Server:
    """One gunicorn instance on a loopback port, logging to a file."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop gunicorn gracefully; kill its process group if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def cpu_seconds(self) -> float:
        """User + system CPU time its workers have used so far."""
        return sum(_cpu_seconds(pid) for pid in _children(self.process.pid))

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker (shared pages counted in each), in MB."""
        return [_proc_status(pid, "VmRSS") / 1024 for pid in _children(self.process.pid)]


def start_server(
    name: str,
    env: Mapping[str, str],
    workdir: Path,
    *,
    workers: int,
    threads: int,
    port: int | None = None,
    keep_alive: int = 2,
    deployed_config: bool = False,
) -> Server:
    """gunicorn on `port` (a free one by default). `deployed_config`: with the settings file the
    README's Deploying section and `script/server` run the app with (its redacting access log),
    so that an app instance costs what a deployed one does."""
    port = port or free_port()
    log_path = workdir / f"gunicorn-{name}.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "viewer_admin.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--graceful-timeout",
        "10",
        "--keep-alive",
        str(keep_alive),
        "--no-control-socket",  # nothing outside the temporary directory
        *(["--config", "python:viewer_admin.gunicorn_conf"] if deployed_config else []),
    ]
    with log_path.open("wb") as log:
        # Its own session: Ctrl+C reaches only this script, which then stops the server.
        process = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            command,
            cwd=ROOT,
            env={**env, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(
        name=name, process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path
    )


def wait_ready(server: Server, path: str) -> None:
    """Until `path` answers (any status below 500): the workers are up and importing is done."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(
                f"gunicorn ({server.name}) exited with status {server.process.returncode}.\n"
                f"{server.log_tail()}"
            )
        try:
            response = httpx.get(f"{server.base_url}{path}", timeout=5)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        else:
            if response.status_code < 500:
                return
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.2)
    raise BenchmarkError(
        f"{server.name} did not answer {path} within {STARTUP_TIMEOUT_SECONDS:.0f} s "
        f"(last: {last})."
    )


def _proc_status(pid: int, name: str) -> int:
    """A `kB` line of /proc/<pid>/status, in KiB (0 when the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    for line in lines:
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0


_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of /proc/<pid>/stat (0 when the process is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # Fields after the command name: state is field 3, utime and stime are fields 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may contain spaces): state, ppid, ...
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)
