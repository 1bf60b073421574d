"""Speed and memory benchmark of study imports, with the real task worker.

Builds a throw-away SQLite database in a temporary directory (db.sqlite3 is never touched),
seeds a sandbox clinic, serves the app with gunicorn on a free loopback port, runs the task
worker (`manage.py import_worker`) next to it, and makes every Viewer API call take 50 ms
longer (a loopback proxy in front of the sandbox). Then, as a signed-in coordinator over
HTTP: uploads a file of IMPORT_ROWS valid rows (assignees by email, customers by name,
metadata), times the preview, sends it and times the whole import. Run it with
`python -m benchmarks.import_run` (`--sqlite` for SQLite instead of PostgreSQL);
it exits 1 when a target is missed, 2 when it could not run.

NOT YET WIRED INTO script/benchmark. Known issue: the wait for the import to finish reads the
state through the ORM and, on the last run, did not see "finished" (the worker log showed the
1,000 rows sent in about 42 s on PostgreSQL; the script reported its 120 s timeout). Measured so
far: preview about 6 s, sending about 42 s, 0 duplicates, worker peak about 75 MB.

Targets (2-core machine):

    preview of 1,000 valid rows (upload → checked)      <= 3 s
    whole import, 4 rows in parallel                    <= 20 s
    duplicates (studies per UID, counted via the API)   0
    worker memory (VmHWM, peak resident set)            < 200 MB
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

import httpx

from devservices.base import ServiceUnavailable

ROOT: Final = Path(__file__).resolve().parent.parent
API_KEY: Final = "benchmark-imports-key"
IMPORT_ROWS: Final = 1000
PARALLEL: Final = 4
LATENCY_SECONDS: Final = 0.05
PREVIEW_MAX_SECONDS: Final = 3.0
IMPORT_MAX_SECONDS: Final = 20.0
WORKER_MAX_MB: Final = 200.0
SEED_USERS: Final = 200
SEED_STUDIES: Final = 300
TIMEOUT_SECONDS: Final = 120.0


class BenchmarkError(Exception):
    pass


class LatencyProxy:
    """A loopback HTTP proxy in front of the sandbox that adds LATENCY_SECONDS to every call,
    as a distant Viewer API would (without touching the sandbox's own code path)."""

    def __init__(self, upstream: str) -> None:
        proxy = self
        self.upstream = upstream.rstrip("/")
        self.client = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=64))

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                time.sleep(LATENCY_SECONDS)
                answer = proxy.client.request(
                    self.command, proxy.upstream + self.path, content=body, headers=headers
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-encoding":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


_HOP_BY_HOP: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(database_url: str, port: int, api_base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "viewer_admin.settings",
            "DJANGO_ENV": "local",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "VIEWER_API_BASE_URL": api_base_url,
            "VIEWER_API_KEY": API_KEY,
            "SANDBOX_ENABLED": "true",
            "IMPORT_PARALLEL_ROWS": str(PARALLEL),
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DJANGO_SECRET_KEY", None)
    return env


def prepare(env: Mapping[str, str], password: str) -> tuple[list[str], list[str]]:
    """Migrate, create the cache table and the sign-ins, seed the sandbox; returns the
    users' emails and the active customers' names."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from sandbox.models import SandboxExpressCustomer, SandboxUser

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("createcachetable", verbosity=0, stdout=quiet)
    call_command("create_demo_users", password=password, stdout=quiet)
    call_command("sandbox_seed", users=SEED_USERS, studies=SEED_STUDIES, stdout=quiet)
    emails = list(SandboxUser.objects.values_list("email", flat=True)[:20])
    customers = list(
        SandboxExpressCustomer.objects.filter(is_active=True).values_list("name", flat=True)
    )
    connections.close_all()
    return emails, customers


def start(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - fixed command, no shell
            command,
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_healthy(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchmarkError("gunicorn exited early.")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise BenchmarkError("/healthz did not answer 200 within 60 s.")


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise BenchmarkError("No CSRF token in the page.")
    return match.group(1)


def sign_in(client: httpx.Client, password: str) -> None:
    token = csrf_token(client.get("/login/").text)
    response = client.post(
        "/login/",
        data={"csrfmiddlewaretoken": token, "username": "coordinator", "password": password},
    )
    if response.status_code != 302:
        raise BenchmarkError("Signing in as coordinator failed.")


def import_file(emails: list[str], customers: list[str]) -> tuple[bytes, list[str]]:
    uids = [f"2.25.{secrets.randbits(120)}" for _ in range(IMPORT_ROWS)]
    lines = [
        "Severity,Study description,Study Instance UID,Assignee,Express customer,metadata.ward"
    ]
    for n, uid in enumerate(uids):
        assignee = emails[n % len(emails)] if n % 3 else ""
        customer = customers[n % len(customers)] if n % 5 == 0 else ""
        lines.append(
            f"{('normal', 'high', 'stat')[n % 3]},Imported {n},{uid},{assignee},{customer},W{n % 9}"
        )
    return ("\n".join(lines) + "\n").encode(), uids


def studies_per_uid(base_url: str, uids: set[str]) -> Counter[str]:
    """Every study of the clinic, through the API (all pages), counted by UID."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    counts: Counter[str] = Counter()
    cursor = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = httpx.get(
            f"{base_url}/sandbox/v1/viewer/studies", params=params, headers=headers, timeout=30
        )
        body = response.json()
        counts.update(
            s["studyInstanceUid"] for s in body["studies"] if s["studyInstanceUid"] in uids
        )
        cursor = body.get("cursor")
        if not body.get("hasMore") or not cursor:
            return counts


def import_state(import_id: int) -> tuple[str, int]:
    from django.db import connections

    from imports.models import StudyImport

    study_import = StudyImport.objects.get(pk=import_id)
    waiting = study_import.rows.filter(status__in=("waiting", "sending")).count()
    connections.close_all()
    return study_import.state, waiting


def run(workdir: Path, database_url: str) -> bool:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    proxy = LatencyProxy(f"{base_url}/sandbox")
    env = environment(database_url, port, proxy.url)
    password = secrets.token_urlsafe(18)
    print(
        f"==> Preparing a temporary database and a sandbox clinic ({SEED_USERS} users)", flush=True
    )
    emails, customers = prepare(env, password)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = start(
        [gunicorn, "viewer_admin.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "8", "--no-control-socket"],
        env,
        workdir / "gunicorn.log",
    )  # fmt: skip
    worker = start(
        [sys.executable, "manage.py", "import_worker", "--no-reload", "--no-startup-delay",
         "--interval", "0.2"],
        env,
        workdir / "worker.log",
    )  # fmt: skip
    try:
        wait_healthy(base_url, server)
        data, uids = import_file(emails, customers)
        with httpx.Client(base_url=base_url, timeout=TIMEOUT_SECONDS) as client:
            sign_in(client, password)
            token = csrf_token(client.get("/imports/new/").text)
            print(
                f"==> Uploading {IMPORT_ROWS:,} rows "
                f"({LATENCY_SECONDS * 1000:.0f} ms upstream latency)",
                flush=True,
            )
            started = time.monotonic()
            response = client.post(
                "/imports/new/",
                data={"csrfmiddlewaretoken": token},
                files={"file": ("benchmark.csv", data, "text/csv")},
            )
            preview_seconds = time.monotonic() - started
            location = response.headers.get("location", "")
            match = re.fullmatch(r"/imports/(\d+)/", location)
            if response.status_code != 302 or not match:
                raise BenchmarkError(
                    f"The upload did not lead to a preview: {response.status_code}"
                )
            import_id = int(match.group(1))
            page = client.get(location).text
            if f"Send {IMPORT_ROWS:,} valid rows" not in page:
                raise BenchmarkError("The preview does not offer every row as valid.")
            print("==> Sending", flush=True)
            started = time.monotonic()
            client.post(
                f"/imports/{import_id}/send/", data={"csrfmiddlewaretoken": csrf_token(page)}
            )
            while True:
                state, _waiting = import_state(import_id)
                if state in ("finished", "cancelled") or worker.poll() is not None:
                    break
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    break
                time.sleep(0.1)
            import_seconds = time.monotonic() - started
        worker_mb = peak_mb(worker.pid)
        stop(worker)
        counts = studies_per_uid(base_url, set(uids))
    except Exception:
        for log in ("gunicorn.log", "worker.log"):
            print(
                f"--- {log} ---\n{(workdir / log).read_text(errors='replace')[-2000:]}",
                file=sys.stderr,
            )
        raise
    finally:
        stop(worker)
        stop(server)
        proxy.close()
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    missing = len(set(uids) - set(counts))
    checks = [
        (
            "preview, upload to checked (s)",
            f"{preview_seconds:.2f}",
            f"<= {PREVIEW_MAX_SECONDS:.0f}",
            preview_seconds <= PREVIEW_MAX_SECONDS,
        ),
        (
            f"whole import, {PARALLEL} in parallel (s)",
            f"{import_seconds:.2f}",
            f"<= {IMPORT_MAX_SECONDS:.0f}",
            import_seconds <= IMPORT_MAX_SECONDS and state == "finished",
        ),
        ("studies created (via the API)", f"{len(counts):,}", f"{IMPORT_ROWS:,}", missing == 0),
        ("duplicates (via the API)", str(duplicates), "0", duplicates == 0),
        (
            "worker memory, peak VmHWM (MB)",
            f"{worker_mb:.0f}",
            f"< {WORKER_MAX_MB:.0f}",
            worker_mb < WORKER_MAX_MB,
        ),
    ]
    print()
    print(f"{'Study imports':<42} {'result':>10}  {'target':>8}")
    for name, value, target, ok in checks:
        print(f"{name:<42} {value:>10}  {target:>8}  {'ok' if ok else 'MISSED'}")
    return all(ok for *_, ok in checks)


def main() -> int:
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    workdir = Path(tempfile.mkdtemp(prefix="viewer-admin-import-benchmark-"))
    try:
        if "--sqlite" in sys.argv[1:]:
            return 0 if run(workdir, f"sqlite:///{workdir / 'benchmark.sqlite3'}") else 1
        from devservices import postgres

        with postgres.running() as database_url:
            return 0 if run(workdir, database_url) else 1
    except (BenchmarkError, ServiceUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(workdir)


if __name__ == "__main__":
    sys.exit(main())
