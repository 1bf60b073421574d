"""Speed and memory of study imports, with the real task worker: part of `script/benchmark`
(alone: `script/benchmark imports`, or `python -m benchmarks.import_run [--sqlite]`).

A throw-away PostgreSQL (`--sqlite`: a SQLite file in a temporary directory; db.sqlite3 is
never touched) holds everything; the sandbox fills it with a clinic. One gunicorn instance
serves the sandbox alone (the "upstream", standing in for the Viewer API), with a persistent
latency fault that adds LATENCY_SECONDS to every `/v1` call; one app instance talks to it, and
the task worker (`manage.py import_worker`) runs next to it. Then, as a signed-in coordinator
over HTTP: upload a file of IMPORT_ROWS valid rows (assignees by email, customers by name,
metadata), time the preview, send it and time the whole import (until the import is finished).

Targets (printed with PASS/MISS; exit status 1 when one is missed, 2 when it could not run):

    preview of 1,000 valid rows (upload to checked)         <= 3 s
    whole import, IMPORT_PARALLEL_ROWS=4                    <= 20 s
    studies created, counted by UID through the API         1,000, and 0 duplicates
    worker memory (VmHWM, its peak resident set)            < 200 MB
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from benchmarks.html import form_fields
from benchmarks.pages import BareApi, HttpxApp, expect, next_cursor, sign_in
from benchmarks.run import Check, migrate_with_demo_users, workspace
from benchmarks.servers import (
    ROOT,
    UPSTREAM_KEEP_ALIVE_SECONDS,
    UPSTREAM_THREADS,
    UPSTREAM_WORKERS,
    BenchmarkError,
    Server,
    _proc_status,
    environment,
    start_server,
    wait_ready,
)
from benchmarks.sidebyside import Upstream
from devservices import postgres
from devservices.base import ServiceUnavailable, free_port, stop_process

IMPORT_ROWS: Final = 1000
PARALLEL: Final = 4
LATENCY_SECONDS: Final = 0.05
PREVIEW_MAX_SECONDS: Final = 3.0
IMPORT_MAX_SECONDS: Final = 20.0
WORKER_MAX_MB: Final = 200.0
# The clinic: enough users for 20 distinct assignees, studies for a few pages of the list.
SEED_USERS: Final = 200
SEED_STUDIES: Final = 1000
TIMEOUT_SECONDS: Final = 180.0
# For comparison, the API alone: this many creates straight to the upstream, PARALLEL at a time.
BARE_ROWS: Final = 250


def _step(message: str) -> None:
    print(f"==> {message}", flush=True)


def prepare(env: Mapping[str, str], password: str) -> tuple[list[str], list[str]]:
    """Migrate, create the cache table and the demo sign-ins, seed the sandbox clinic (in
    this process, before any server runs); returns 20 users' emails and the active customers'
    names."""
    migrate_with_demo_users(env, password)
    from django.db import connections

    from sandbox.models import SandboxExpressCustomer, SandboxUser
    from sandbox.seed import seed_sandbox

    seed_sandbox(users=SEED_USERS, studies=SEED_STUDIES)
    emails = list(SandboxUser.objects.order_by("pk").values_list("email", flat=True)[:20])
    customers = list(
        SandboxExpressCustomer.objects.filter(is_active=True).values_list("name", flat=True)
    )
    connections.close_all()
    return emails, customers


def import_file(emails: list[str], customers: list[str]) -> tuple[bytes, list[str]]:
    """IMPORT_ROWS valid rows with fresh UIDs: two in three assigned (by email), one in five
    with an Express customer (by name), one metadata column."""
    uids = [f"2.25.{secrets.randbits(120)}" for _ in range(IMPORT_ROWS)]
    lines = [
        "Severity,Study description,Study Instance UID,Assignee,Express customer,metadata.ward"
    ]
    for n, uid in enumerate(uids):
        assignee = emails[n % len(emails)] if n % 3 else ""
        customer = customers[n % len(customers)] if n % 5 == 0 else ""
        severity = ("normal", "high", "stat")[n % 3]
        lines.append(f"{severity},Imported {n},{uid},{assignee},{customer},W{n % 9}")
    return ("\n".join(lines) + "\n").encode(), uids


def studies_per_uid(api: BareApi, uids: set[str]) -> Counter[str]:
    """Every study of the clinic, through the API (all pages), counted by UID."""
    counts: Counter[str] = Counter()
    params: dict[str, str] = {"limit": "100"}
    while True:
        page = api.get("v1/viewer/studies", params)
        counts.update(s["studyInstanceUid"] for s in page["studies"])
        cursor = next_cursor(page)
        if cursor is None:
            return Counter({uid: n for uid, n in counts.items() if uid in uids})
        params = {"limit": "100", "cursor": cursor}


def import_state(import_id: int) -> str:
    """The import's state, read from the database (a fresh connection each time)."""
    from django.db import connections

    from imports.models import StudyImport

    try:
        state: str = StudyImport.objects.values_list("state", flat=True).get(pk=import_id)
        return state
    finally:
        connections.close_all()


def start_worker(env: Mapping[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    log = workdir / "worker.log"
    command = [sys.executable, "manage.py", "import_worker", "--no-reload", "--no-startup-delay"]
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


def bare_creates(api: BareApi) -> float:
    """Seconds the upstream takes for BARE_ROWS creates with the import's first rows' bodies
    (new UIDs), PARALLEL at a time, with nothing in between: the floor under the import's time
    on this machine, at this moment."""
    from django.db import connections

    from imports.models import ImportRow

    bodies = list(ImportRow.objects.order_by("pk").values_list("payload", flat=True)[:BARE_ROWS])
    connections.close_all()

    def create(body: dict[str, object]) -> None:
        api.post("v1/viewer/studies", {**body, "studyInstanceUid": f"2.25.{secrets.randbits(120)}"})

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(create, bodies))
    return time.perf_counter() - started


@dataclass
class Measured:
    preview_seconds: float
    import_seconds: float
    bare_seconds: float
    worker_mb: float
    counts: Counter[str]
    uids: list[str]
    state: str


def measure(
    app: HttpxApp, worker: subprocess.Popen[bytes], data: bytes
) -> tuple[float, float, str]:
    """Upload, preview and send one file; (preview seconds, import seconds, final state)."""
    base = app.base_urls[0]
    page = expect(app.get("/imports/new/"), 200, "GET /imports/new/")
    # The upload form posts to its own page (no action).
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise BenchmarkError("The upload page has no CSRF token.")
    fields = {"csrfmiddlewaretoken": token.group(1)}
    started = time.perf_counter()
    response = app.http.post(
        f"{base}/imports/new/",
        data=fields,
        files={"file": ("benchmark.csv", data, "text/csv")},
        headers={"Origin": base},
    )
    preview_seconds = time.perf_counter() - started
    location = response.headers.get("location", "")
    if response.status_code != 302 or not location.startswith("/imports/"):
        raise BenchmarkError(f"The upload answered {response.status_code}, not a preview.")
    import_id = int(location.strip("/").rsplit("/", 1)[-1])
    detail = expect(app.get(location), 200, f"GET {location}")
    if f"Send {IMPORT_ROWS:,} valid rows" not in detail.text:
        raise BenchmarkError("The preview does not offer every row as valid.")
    send = f"/imports/{import_id}/send/"
    started = time.perf_counter()
    expect(app.post(send, form_fields(detail.text, send)), 302, f"POST {send}")
    state = ""
    while time.perf_counter() - started < TIMEOUT_SECONDS and worker.poll() is None:
        state = import_state(import_id)
        if state in ("finished", "cancelled"):
            break
        time.sleep(0.05)
    return preview_seconds, time.perf_counter() - started, state


def run(workdir: Path, stack: ExitStack, *, sqlite: bool) -> Measured:
    if sqlite:
        database_url = f"sqlite:///{workdir / 'benchmark.sqlite3'}"
    else:
        _step("Starting a throw-away PostgreSQL")
        database_url = stack.enter_context(postgres.running())
    upstream_port = free_port()
    api_url = f"http://127.0.0.1:{upstream_port}/sandbox"
    app_env = {**environment(database_url, api_url, sandbox=False)}
    app_env["IMPORT_PARALLEL_ROWS"] = str(PARALLEL)
    password = secrets.token_urlsafe(18)
    _step(f"Migrating and seeding a clinic of {SEED_USERS} users and {SEED_STUDIES} studies")
    emails, customers = prepare(app_env, password)

    _step("Starting gunicorn (the sandbox upstream, the app) and the task worker")
    servers: list[Server] = [
        start_server(
            "upstream",
            environment(database_url, api_url, sandbox=True),
            workdir,
            port=upstream_port,
            workers=UPSTREAM_WORKERS,
            threads=UPSTREAM_THREADS,
            keep_alive=UPSTREAM_KEEP_ALIVE_SECONDS,
        )
    ]
    stack.callback(servers[0].stop)
    servers.append(start_server("app", app_env, workdir, workers=2, threads=8))
    stack.callback(servers[1].stop)
    worker = start_worker(app_env, workdir)
    stack.callback(stop_process, worker)
    api, control, app = (
        BareApi(api_url),
        Upstream(api_url),
        HttpxApp([servers[1].base_url], keep_alive=False),
    )
    for closeable in (api, control, app):
        stack.callback(closeable.close)
    try:
        for server in servers:
            wait_ready(server, "/login/")
        sign_in(app, "coordinator", password)
        control.set_latency(LATENCY_SECONDS)
        data, uids = import_file(emails, customers)
        _step(f"Importing {IMPORT_ROWS:,} rows, {LATENCY_SECONDS * 1000:.0f} ms upstream latency")
        preview, sending, state = measure(app, worker, data)
        worker_mb = _proc_status(worker.pid, "VmHWM") / 1024
        _step(f"The API alone: {BARE_ROWS} creates, {PARALLEL} at a time")
        bare = bare_creates(api) * IMPORT_ROWS / BARE_ROWS
        control.clear()
        counts = studies_per_uid(api, set(uids))
    except Exception:
        for name, text in [(s.name, s.log_tail()) for s in servers] + [
            ("worker", (workdir / "worker.log").read_text(errors="replace")[-3000:])
        ]:
            if text.strip():
                print(f"\n--- last lines of the {name} log ---\n{text}", file=sys.stderr)
        raise
    return Measured(preview, sending, bare, worker_mb, counts, uids, state)


def checks(measured: Measured) -> list[Check]:
    counts = measured.counts
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    missing = len(set(measured.uids) - set(counts))
    finished = measured.state == "finished"
    return [
        Check(
            f"preview of {IMPORT_ROWS:,} rows (s)",
            f"{measured.preview_seconds:.2f}",
            f"<= {PREVIEW_MAX_SECONDS:.0f}",
            measured.preview_seconds <= PREVIEW_MAX_SECONDS,
        ),
        Check(
            f"whole import, {PARALLEL} in parallel (s)",
            f"{measured.import_seconds:.2f}" + ("" if finished else f" ({measured.state})"),
            f"<= {IMPORT_MAX_SECONDS:.0f}",
            finished and measured.import_seconds <= IMPORT_MAX_SECONDS,
        ),
        Check(
            "studies missing in the API (by UID)",
            str(missing),
            "0",
            missing == 0,
        ),
        Check("duplicate studies (by UID)", str(duplicates), "0", duplicates == 0),
        Check(
            "worker memory, peak VmHWM (MB)",
            f"{measured.worker_mb:.0f}",
            f"< {WORKER_MAX_MB:.0f}",
            0 < measured.worker_mb < WORKER_MAX_MB,
        ),
    ]


def report(found: list[Check], measured: Measured, *, database: str) -> bool:
    print(
        f"\nStudy imports: {IMPORT_ROWS:,} valid rows, {LATENCY_SECONDS * 1000:.0f} ms upstream "
        f"latency, {database}, {os.cpu_count()} CPUs"
    )
    header = f"{'':<42}{'measured':>12}  {'target':>8}"
    print(header)
    print("-" * (len(header) + 6))
    for check in found:
        verdict = "PASS" if check.ok else "MISS"
        print(f"{check.name:<42}{check.measured:>12}  {check.target:>8}  {verdict}")
    print(
        f"For comparison, the API alone: {IMPORT_ROWS:,} creates {PARALLEL} at a time take "
        f"{measured.bare_seconds:.1f} s here now (from {BARE_ROWS}); the import adds "
        f"{measured.import_seconds - measured.bare_seconds:+.1f} s to that."
    )
    return all(check.ok for check in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="benchmarks.import_run", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        with workspace() as workdir, ExitStack() as stack:
            measured = run(workdir, stack, sqlite=args.sqlite)
        database = "SQLite" if args.sqlite else "PostgreSQL"
        return 0 if report(checks(measured), measured, database=database) else 1
    except (BenchmarkError, ServiceUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: a server did not answer: {type(exc).__name__} {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped and temporary files removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
