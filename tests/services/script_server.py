"""`script/server` itself, started for a test on a free loopback port, in a temp dir.

`script_server("production")` or `script_server("local")` runs the project's start command
exactly as a person would (production: migrate, cache table, collectstatic, gunicorn with
`viewer_admin/gunicorn_conf.py`; local: demo accounts, sandbox seed, runserver), against a
throw-away SQLite database, with the sandbox serving as the Viewer API. Everything the
server writes to stdout and stderr is kept in files (`ScriptServer.output()`), and the
process group is stopped at teardown.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devservices.base import free_port

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
API_KEY = "script-server-test-key"
# Variables of the developer's shell that would change what script/server does.
_CLEARED_PREFIXES = ("DJANGO_", "VIEWER_", "SANDBOX_", "DATABASE_URL", "PORT", "DEMO_PASSWORD")


@dataclass
class ScriptServer:
    mode: str
    port: int
    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    streams: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 120) -> str:
        """`manage.py ARGS` with the server's settings (its output is not server output)."""
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [str(PYTHON), "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def start(self, timeout: float = 180) -> None:
        stdout, stderr = self.workdir / "stdout.txt", self.workdir / "stderr.txt"
        self.streams = [stdout, stderr]
        with stdout.open("wb") as out, stderr.open("wb") as err:
            self.process = subprocess.Popen(  # noqa: S603 - the project's own start script
                [str(ROOT / "script" / "server")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"script/server exited early:\n{self.output()[-4000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"script/server did not answer /healthz in time:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def output(self) -> str:
        """Everything the server wrote: stdout, stderr and any log file in its directory."""
        files = [*self.streams, *sorted(self.workdir.rglob("*.log"))]
        return "\n".join(
            path.read_text(encoding="utf-8", errors="replace") for path in files if path.exists()
        )


def server_env(mode: str, port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
    env |= {
        "DJANGO_ENV": mode,
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    if mode == "production":
        env |= {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_BEHIND_TLS_PROXY": "true",
            "VIEWER_API_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
            "VIEWER_API_KEY": API_KEY,
            "SANDBOX_ENABLED": "true",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "8",
        }
    return env


@pytest.fixture
def script_server(tmp_path: Path) -> Iterator[Callable[[str], ScriptServer]]:
    """A factory: `script_server("production")` prepares (not starts) a server."""
    servers: list[ScriptServer] = []

    def make(mode: str) -> ScriptServer:
        port = free_port()
        workdir = tmp_path / f"server-{mode}"
        workdir.mkdir()
        server = ScriptServer(mode, port, workdir, server_env(mode, port, workdir))
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
