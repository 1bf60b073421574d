"""Speed and memory benchmark of Viewer Admin against a large sandbox clinic.

Builds a throw-away SQLite database in a temporary directory (the developer's db.sqlite3 is never
touched), fills the sandbox with a large clinic, serves the app with gunicorn on a free loopback
port, signs in as a coordinator and measures real HTTP round trips in fixed-count loops. Run it
with `script/benchmark`; it exits 1 when a target is missed and 2 when it could not run.

Targets, chosen for a 2-core machine (latencies are client-side, loopback, one request at a time;
every app request also makes its own HTTP call(s) to the sandbox in the same server):

    assignee type-ahead, cold (first call per query)   p95 < 300 ms
    assignee type-ahead, warm (cached)                 p95 < 100 ms
    assignee type-ahead answer                         at most 10 users, under 16 KB
    worklist `/` (50 rows), filtered, "Load more"      p95 < 800 ms, page under 400 KB
    API calls for the studies per worklist render      exactly 1
    API calls for the users per type-ahead             1 to 2 cold, 0 warm
    create-study form GET, and its POST (full form,
    assignee, customer and metadata on every other)    p95 < 800 ms
    server memory after the run (VmRSS, master +
    workers, shared pages counted in each)             < 400 MB
"""

from __future__ import annotations

import io
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import FrameType
from typing import Final
from urllib.parse import urlencode

import httpx

ROOT: Final = Path(__file__).resolve().parent.parent

# --- Targets (see the module docstring) ---------------------------------------------------------

TYPEAHEAD_COLD_P95_MS: Final = 300.0
TYPEAHEAD_WARM_P95_MS: Final = 100.0
TYPEAHEAD_MAX_USERS: Final = 10
TYPEAHEAD_MAX_BYTES: Final = 16 * 1024
WORKLIST_P95_MS: Final = 800.0
WORKLIST_MAX_BYTES: Final = 400 * 1024
WORKLIST_ROWS: Final = 50
CREATE_P95_MS: Final = 800.0
SERVER_RSS_MAX_MB: Final = 400.0

# --- Size of the clinic and of the loops --------------------------------------------------------

USERS: Final = 5000
STUDIES: Final = 2000
WARMUP_REQUESTS: Final = 6
TYPEAHEAD_WARM_REPEATS: Final = 3
WORKLIST_RENDERS: Final = 60
FILTERED_REPEATS: Final = 6
LOAD_MORE_RENDERS: Final = 40
CREATES: Final = 60

WORKERS: Final = 2
THREADS: Final = 8
HTTP_TIMEOUT_SECONDS: Final = 30.0
STARTUP_TIMEOUT_SECONDS: Final = 60.0
API_KEY: Final = "sandbox-demo-key"
SEED: Final = 20250130

FIRST_NAMES: Final = (
    "Amara", "Benjamin", "Chen", "Dana", "Elena", "Farid", "Grace", "Hiroshi", "Ines", "Jamal",
    "Katarzyna", "Liam", "Maya", "Nikhil", "Olivia", "Pablo", "Quinn", "Rosa", "Samuel", "Tamar",
    "Uchenna", "Valeria", "William", "Ximena", "Yusuf", "Zoe", "Adaeze", "Bjorn", "Carmen",
    "Desmond", "John", "Mary", "Ahmed", "Fatima", "Wei", "Priya", "Sofia", "Mateo", "Aisha",
    "Lucas", "Hannah", "Kenji", "Ngozi", "Oscar", "Leila", "Tomasz", "Ingrid", "Rafael",
    "Siobhan", "Dmitri", "Chloe", "Emeka", "Yara", "Anders", "Beatriz", "Connor", "Daniela",
    "Elif", "Gustavo", "Hana",
)  # fmt: skip
LAST_NAMES: Final = (
    "Okafor", "Lindqvist", "Nakamura", "Haddad", "Moreau", "Patel", "Kowalski", "O'Brien",
    "Fernandes", "Abernathy", "Nguyen", "Schmidt", "Osei", "Castillo", "Reyes-Morgan", "Ivanova",
    "Thompson", "Mensah", "Rossi", "Al-Sayed", "Bergstrom", "Delacroix", "Eze", "Fitzgerald",
    "Smith", "Johnson", "Garcia", "Martinez", "Brown", "Kim", "Lee", "Wang", "Singh", "Khan",
    "Müller", "Dubois", "Novak", "Horvath", "Jensen", "Larsen", "Andersson", "Virtanen",
    "Kovacs", "Popescu", "Yilmaz", "Demir", "Cohen", "Levi", "Mwangi", "Adeyemi", "Banda",
    "Silva", "Santos", "Oliveira", "Pereira", "Costa", "Romero", "Torres", "Ramirez", "Flores",
    "Murphy", "Kelly", "Walsh", "Byrne", "MacDonald", "Campbell", "Stewart", "Robertson",
    "Tanaka", "Suzuki", "Sato", "Watanabe", "Ito", "Chowdhury", "Rahman", "Hossain", "Das",
    "Iyer", "Menon", "Van der Berg",
)  # fmt: skip
MIDDLE_NAMES: Final = ("Marie", "James", "Ann", "Lee", "Jose", "Elizabeth", "Kwame", "Rose")
ROLES: Final = (
    "Radiologist", "Radiologist", "Radiologist", "Neurologist", "Cardiologist", "Oncologist",
    "Imaging Technologist", "Patient Care Coordinator", "Registered Nurse", "Physician Assistant",
    "Front Desk Operator", "Medical Assistant",
)  # fmt: skip
STUDY_TYPES: Final = (
    ("CT Head without Contrast", "CT"),
    ("CT Chest/Abdomen/Pelvis with Contrast", "CT"),
    ("CT Angiography Chest (PE Protocol)", "CT"),
    ("MRI Brain with and without Contrast", "MR"),
    ("MRI Lumbar Spine without Contrast", "MR"),
    ("MRI Knee Right without Contrast", "MR"),
    ("X-Ray Chest PA and Lateral", "CR"),
    ("X-Ray Wrist Left 3 Views", "DX"),
    ("US Abdomen Complete", "US"),
    ("US Thyroid", "US"),
    ("Screening Mammogram Bilateral with Tomosynthesis", "MG"),
    ("PET/CT Skull Base to Mid-Thigh", "PT"),
)
CUSTOMERS: Final = (
    ("Lakeside Orthopedic Group", True),
    ("Harbor Urgent Care Network", True),
    ("Pinecrest Family Clinic", False),
)
DOMAIN: Final = "bench-clinic.example"


class BenchmarkError(Exception):
    """The benchmark could not run (setup, sign-in or an unexpected answer)."""


# --- The clinic ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clinic:
    """What the seeded clinic holds that the loops need."""

    users: int
    customers: int
    studies: int
    sample_names: list[tuple[str, str]]
    sample_emails: list[str]
    user_ids: list[str]
    active_customer_ids: list[str]
    customer_ids: list[str]


def _environment(database_url: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "viewer_admin.settings",
            "DJANGO_ENV": "local",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "PORT": str(port),
            "VIEWER_API_BASE_URL": f"http://127.0.0.1:{port}/sandbox",
            "VIEWER_API_KEY": API_KEY,
            "SANDBOX_ENABLED": "true",
            "LOG_LEVEL": "INFO",  # the service module's one line per API call is counted
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("DJANGO_SECRET_KEY", "DJANGO_CSRF_TRUSTED_ORIGINS", "VIEWER_API_CACHE_SECONDS"):
        env.pop(name, None)
    return env


def prepare_database(env: Mapping[str, str], password: str) -> Clinic:
    """Migrate the temporary database, create the cache table and the demo sign-ins, and fill
    the sandbox, all in this process (the server is not running yet)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("createcachetable", verbosity=0, stdout=quiet)
    call_command("create_demo_users", password=password, stdout=quiet)
    clinic = seed_clinic()
    connections.close_all()
    return clinic


def seed_clinic() -> Clinic:
    """USERS users with varied names, three Express customers (one inactive) and STUDIES
    studies, in the clinic of the configured key. Bulk inserts keep this to a few seconds."""
    from django.db import transaction

    from sandbox.auth import settings_key
    from sandbox.factories import make_customer, random_uid
    from sandbox.models import SandboxStudy, SandboxUser, now_ms

    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    key = settings_key()
    if key is None:
        raise BenchmarkError("VIEWER_API_KEY is empty; the sandbox has no clinic to fill.")
    now = now_ms()
    emails: set[str] = set()
    users: list[SandboxUser] = []
    for index in range(USERS):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = re.sub(r"[^a-z0-9.-]", "", f"{first[0]}.{last}".lower())
        email, number = f"{local}@{DOMAIN}", 2
        while email in emails:
            email, number = f"{local}{number}@{DOMAIN}", number + 1
        emails.add(email)
        role = rng.choice(ROLES)
        physician = role.endswith("ist")
        users.append(
            SandboxUser(
                clinic_id=key.clinic_id,
                email=email,
                first_name=first,
                last_name=last,
                middle_name=rng.choice(MIDDLE_NAMES) if rng.random() < 0.3 else "",
                suffix1="MD" if physician and rng.random() < 0.8 else "",
                suffix2="PhD" if physician and rng.random() < 0.1 else "",
                level="admin" if index < 3 else "member",
                clinic_role=role,
                can_manage_studies=physician or rng.random() < 0.5,
                has_dashboard_access=rng.random() < 0.4,
                invited_source="api" if rng.random() < 0.25 else "dashboard",
                created_at=now - timedelta(days=rng.uniform(1, 700)),
                last_login_at=now - timedelta(hours=rng.uniform(1, 720)),
            )
        )
    with transaction.atomic():
        SandboxUser.objects.bulk_create(users, batch_size=500)
        customers = [
            make_customer(
                clinic_id=key.clinic_id,
                name=name,
                is_active=active,
                members=rng.sample(users, 5),
                metadata={"region": rng.choice(("north", "east", "coastal"))},
            )
            for name, active in CUSTOMERS
        ]
        readers = [user for user in users if user.clinic_role.endswith("ist")]
        studies: list[SandboxStudy] = []
        for _ in range(STUDIES):
            description, modality = rng.choice(STUDY_TYPES)
            created_at = now - timedelta(minutes=rng.uniform(5, 60 * 24 * 30))
            cancelled = rng.random() < 0.1
            studies.append(
                SandboxStudy(
                    clinic_id=key.clinic_id,
                    study_instance_uid=random_uid(),
                    study_description=description,
                    severity=rng.choices(("normal", "high", "stat"), weights=(60, 28, 12))[0],
                    study_viewer_status="complete" if rng.random() < 0.35 else "incomplete",
                    is_cancelled=cancelled,
                    cancelled_at=created_at + timedelta(hours=1) if cancelled else None,
                    assigned_to=rng.choice(readers) if rng.random() < 0.7 else None,
                    created_by_api_key=key,
                    express_customer=rng.choice(customers) if rng.random() < 0.35 else None,
                    metadata={
                        "accessionNumber": f"ACC{rng.randint(10**7, 10**8 - 1)}",
                        "modality": modality,
                    },
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        SandboxStudy.objects.bulk_create(studies, batch_size=500)
    picked = rng.sample(users, 80)
    return Clinic(
        users=SandboxUser.objects.filter(clinic_id=key.clinic_id).count(),
        customers=len(customers),
        studies=SandboxStudy.objects.filter(clinic_id=key.clinic_id).count(),
        sample_names=[(user.first_name, user.last_name) for user in picked],
        sample_emails=[user.email for user in picked[70:]],
        user_ids=[user.user_id for user in picked],
        active_customer_ids=[c.customer_id for c in customers if c.is_active],
        customer_ids=[c.customer_id for c in customers],
    )


# --- The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """gunicorn serving the app (and the sandbox) on a loopback port, logging to a file."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def api_calls(self, template: str) -> int:
        """How many calls to the Viewer API path `template` the app has logged so far."""
        return len(re.findall(rf"viewer_api GET {re.escape(template)} status=", self.log_text()))

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


def start_server(env: Mapping[str, str], port: int, workdir: Path) -> Server:
    log_path = workdir / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "viewer_admin.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--graceful-timeout",
        "10",
        "--no-control-socket",  # nothing outside the temporary directory
    ]
    with log_path.open("wb") as log:
        # Its own session: Ctrl+C reaches only this script, which then stops the server.
        process = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            command,
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)


def wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchmarkError(f"gunicorn exited with status {server.process.returncode}.")
        try:
            response = httpx.get(f"{server.base_url}/healthz", timeout=5)
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        time.sleep(0.2)
    raise BenchmarkError(
        f"/healthz did not answer 200 within {STARTUP_TIMEOUT_SECONDS:.0f} s (last: {last})."
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


@dataclass(frozen=True)
class Memory:
    rss_mb: float
    peak_mb: float
    per_process_mb: list[float]


def server_memory(server: Server) -> Memory:
    pids = [server.process.pid, *_children(server.process.pid)]
    rss = [_proc_status(pid, "VmRSS") / 1024 for pid in pids]
    peak = [_proc_status(pid, "VmHWM") / 1024 for pid in pids]
    return Memory(rss_mb=sum(rss), peak_mb=sum(peak), per_process_mb=rss)


# --- HTML forms, as a browser submits them ------------------------------------------------------


class FormFields(HTMLParser):
    """The controls a browser would submit from the `<form>` whose action is `action`
    (checked radios and checkboxes only, a select's selected option, nothing inside
    `<template>`, no submit buttons)."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.found = False
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._template_depth = 0
        self._select: str | None = None
        self._selected: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form" and attr.get("action") == self.action:
            self._in_form = self.found = True
        if tag == "template":
            self._template_depth += 1
        if not self._in_form or self._template_depth or "disabled" in attr:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = (attr.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"radio", "checkbox"} and "checked" not in attr:
                return
            self.fields[name] = attr.get("value") or ("on" if kind == "checkbox" else "")
        elif tag == "select" and name:
            self._select, self._selected, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = attr.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attr:
                self._selected = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self._template_depth:
            self._template_depth -= 1
        elif tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            chosen = self._selected if self._selected is not None else self._first_option
            self.fields[self._select] = chosen or ""
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields[self._textarea] = "".join(self._text)
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def form_fields(html: str, action: str) -> dict[str, str]:
    parser = FormFields(action)
    parser.feed(html)
    if not parser.found:
        raise BenchmarkError(f"The page has no form posting to {action}.")
    return parser.fields


# --- Measuring ----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Latencies (seconds) and response sizes (bytes) of one measured request kind."""

    name: str
    target_p95_ms: float
    max_bytes: int | None = None
    seconds: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def add(self, seconds: float, size: int) -> None:
        self.seconds.append(seconds)
        self.sizes.append(size)

    def percentile_ms(self, percent: int) -> float:
        if len(self.seconds) < 2:
            return self.seconds[0] * 1000 if self.seconds else float("nan")
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[percent - 1] * 1000

    @property
    def ok(self) -> bool:
        size_ok = self.max_bytes is None or max(self.sizes, default=0) <= self.max_bytes
        return bool(self.seconds) and self.percentile_ms(95) < self.target_p95_ms and size_ok


@dataclass(frozen=True)
class Check:
    """A counted fact with its target."""

    name: str
    measured: str
    target: str
    ok: bool


def timed(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    expect: int = 200,
) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = client.request(method, url, headers=headers, data=data)
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise BenchmarkError(
            f"{method} {url.split('?')[0]} answered {response.status_code}, not {expect}."
        )
    return response, elapsed


_ERROR_ITEM = re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _page_errors(html: str) -> str:
    errors = [" ".join(_TAG.sub(" ", m).split()) for m in _ERROR_ITEM.findall(html)]
    return "; ".join(errors)[:500] or "no field errors shown"


def sign_in(client: httpx.Client, password: str) -> None:
    """Through `/login/` as a browser would: the CSRF token comes from the form."""
    page, _ = timed(client, "GET", "/login/")
    fields = form_fields(page.text, "/login/")
    fields.update({"username": "coordinator", "password": password})
    response, _ = timed(client, "POST", "/login/", data=fields, expect=302)
    if response.headers.get("location") != "/" or "sessionid" not in client.cookies:
        raise BenchmarkError("Signing in as coordinator did not start a session.")


def warm_up(client: httpx.Client) -> None:
    """Load code and templates in every worker before anything is timed."""
    for _ in range(WARMUP_REQUESTS):
        timed(client, "GET", "/")
        timed(client, "GET", "/studies/new/")
        timed(client, "GET", "/studies/assignees/?q=warm")


def typeahead_queries(clinic: Clinic) -> list[str]:
    """Distinct queries (the cache keys are case- and space-insensitive): single letters that
    match thousands, prefixes of last and first names, full names, exact emails and misses."""
    candidates = ["a", "e", "Smi", "o'b", "van der", "zzqx", "nobody here", "xy@nowhere.example"]
    for first, last in clinic.sample_names[:50]:
        candidates += [last[:3], first[:2], last[:4].upper()]
    candidates += [f"{first} {last}" for first, last in clinic.sample_names[50:70]]
    candidates += clinic.sample_emails
    seen: set[str] = set()
    queries: list[str] = []
    for query in candidates:
        key = " ".join(query.split()).lower()
        if key and key != "warm" and key not in seen:
            seen.add(key)
            queries.append(query)
    return queries


_PICKER_USER = re.compile(r'<input type="radio" name="assigned_to" value="usr_')


def bench_typeahead(
    client: httpx.Client, server: Server, clinic: Clinic
) -> tuple[Timings, Timings, list[Check]]:
    cold = Timings("type-ahead, cold", TYPEAHEAD_COLD_P95_MS, TYPEAHEAD_MAX_BYTES)
    warm = Timings("type-ahead, warm", TYPEAHEAD_WARM_P95_MS, TYPEAHEAD_MAX_BYTES)
    headers = {"HX-Request": "true", "HX-Target": "id_assignee_query_results"}
    queries = typeahead_queries(clinic)
    most_users = 0

    def ask(query: str, timings: Timings) -> None:
        nonlocal most_users
        url = f"/studies/assignees/?{urlencode({'q': query})}"
        response, seconds = timed(client, "GET", url, headers=headers)
        timings.add(seconds, len(response.content))
        most_users = max(most_users, len(_PICKER_USER.findall(response.text)))

    before = server.api_calls("/v1/viewer/users")
    for query in queries:
        ask(query, cold)
    cold_calls = server.api_calls("/v1/viewer/users") - before
    before += cold_calls
    for _ in range(TYPEAHEAD_WARM_REPEATS):
        for query in queries:
            ask(query, warm)
    warm_calls = server.api_calls("/v1/viewer/users") - before
    checks = [
        Check(
            "users listed per type-ahead answer (most)",
            str(most_users),
            f"<= {TYPEAHEAD_MAX_USERS}",
            most_users <= TYPEAHEAD_MAX_USERS,
        ),
        Check(
            "users API calls per cold type-ahead",
            f"{cold_calls / len(queries):.2f}",
            "1 to 2",
            len(queries) <= cold_calls <= 2 * len(queries),
        ),
        Check(
            "users API calls per warm type-ahead",
            f"{warm_calls / len(warm.seconds):.2f}",
            "0",
            warm_calls == 0,
        ),
    ]
    return cold, warm, checks


_ROW = re.compile(r'<tr class="worklist-row')
_LOAD_MORE = re.compile(r'<tr id="load-more".*?href="([^"]+)"', re.S)


def worklist_filters(clinic: Clinic) -> list[dict[str, str]]:
    return [
        {"severity": "stat"},
        {"status": "complete"},
        {"cancelled": "all"},
        {"cancelled": "cancelled"},
        {"assigned_to": "unassigned"},
        {"assigned_to": clinic.user_ids[0]},
        {"customer": clinic.customer_ids[0]},
        {"customer": "none", "severity": "high"},
        {"q": "MRI"},
        {"q": "chest", "severity": "normal", "status": "incomplete", "cancelled": "all"},
    ]


def bench_worklist(
    client: httpx.Client, server: Server, clinic: Clinic
) -> tuple[list[Timings], list[Check]]:
    page = Timings("worklist /", WORKLIST_P95_MS, WORKLIST_MAX_BYTES)
    filtered = Timings("worklist, filtered", WORKLIST_P95_MS, WORKLIST_MAX_BYTES)
    more = Timings('worklist, "Load more"', WORKLIST_P95_MS, WORKLIST_MAX_BYTES)
    renders = 0
    before = server.api_calls("/v1/viewer/studies")
    fewest_rows = WORKLIST_ROWS
    next_url: str | None = None
    for _ in range(WORKLIST_RENDERS):
        response, seconds = timed(client, "GET", "/")
        page.add(seconds, len(response.content))
        fewest_rows = min(fewest_rows, len(_ROW.findall(response.text)))
        match = _LOAD_MORE.search(response.text)
        next_url = match.group(1).replace("&amp;", "&") if match else None
        renders += 1
    for _ in range(FILTERED_REPEATS):
        for query in worklist_filters(clinic):
            response, seconds = timed(client, "GET", f"/?{urlencode(query)}")
            filtered.add(seconds, len(response.content))
            renders += 1
    if next_url is None:
        raise BenchmarkError("The worklist shows no 'Load more' link with thousands of studies.")
    htmx = {"HX-Request": "true", "HX-Target": "load-more"}
    url: str | None = next_url
    for _ in range(LOAD_MORE_RENDERS):
        response, seconds = timed(client, "GET", url or next_url, headers=htmx)
        more.add(seconds, len(response.content))
        renders += 1
        match = _LOAD_MORE.search(response.text)
        url = match.group(1).replace("&amp;", "&") if match else None
    calls = server.api_calls("/v1/viewer/studies") - before
    checks = [
        Check(
            "studies API calls per worklist render",
            f"{calls / renders:.2f}",
            "1",
            calls == renders,
        ),
        Check(
            "rows on the first worklist page (fewest)",
            str(fewest_rows),
            str(WORKLIST_ROWS),
            fewest_rows == WORKLIST_ROWS,
        ),
    ]
    return [page, filtered, more], checks


def bench_create(
    client: httpx.Client, server: Server, clinic: Clinic
) -> tuple[list[Timings], list[Check]]:
    """The full form: GET it (fresh token), fill it like a coordinator and POST it."""
    from sandbox.factories import random_uid

    form_page = Timings("create form GET", WORKLIST_P95_MS)
    create = Timings("create POST", CREATE_P95_MS)
    rng = random.Random(SEED + 1)  # noqa: S311 - demo data, not security
    origin = {"Origin": server.base_url}
    locations: list[str] = []
    for index in range(CREATES):
        page, seconds = timed(client, "GET", "/studies/new/")
        form_page.add(seconds, len(page.content))
        fields = form_fields(page.text, "/studies/new/")
        if not fields.get("token") or not fields.get("csrfmiddlewaretoken"):
            raise BenchmarkError("The create form carries no submission or CSRF token.")
        first, last = clinic.sample_names[index % len(clinic.sample_names)]
        fields.update(
            {
                "action": "create",
                "severity": rng.choice(("normal", "high", "stat")),
                "study_description": f"Benchmark CT Head without Contrast #{index + 1}",
                "study_instance_uid": random_uid(),
            }
        )
        if index % 2 == 0:
            fields["assignee_query"] = f"{first} {last}"
            fields["assigned_to"] = clinic.user_ids[index % len(clinic.user_ids)]
            fields["express_customer_id"] = rng.choice(clinic.active_customer_ids)
            fields["metadata-TOTAL_FORMS"] = "3"
            for row, (key, value) in enumerate(
                (("accessionNumber", f"ACC{index:08d}"), ("modality", "CT"), ("site", "North"))
            ):
                fields[f"metadata-{row}-key"] = key
                fields[f"metadata-{row}-value"] = value
        response, seconds = post_create(client, fields, origin)
        create.add(seconds, len(response.content))
        locations.append(response.headers.get("location", ""))
    # The first study had every field filled: its detail page shows them all, the last one too.
    first = client.get(locations[0])
    active_names = [name for name, active in CUSTOMERS if active]
    complete = (
        first.status_code == 200
        and re.search(r"Benchmark CT Head without Contrast #1(?!\d)", first.text) is not None
        and "ACC00000000" in first.text
        and f"@{DOMAIN}" in first.text
        and any(name in first.text for name in active_names)
    )
    last = client.get(locations[-1])
    complete = (
        complete
        and last.status_code == 200
        and re.search(rf"#{CREATES}(?!\d)", last.text) is not None
    )
    checks = [
        Check(
            "created studies complete on their detail page",
            "yes" if complete else "no",
            "yes",
            complete,
        )
    ]
    return [form_page, create], checks


def post_create(
    client: httpx.Client, fields: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[httpx.Response, float]:
    """POST the create form; a 200 means the form came back with errors, which are shown."""
    started = time.perf_counter()
    response = client.post("/studies/new/", data=fields, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 302:
        raise BenchmarkError(
            f"Creating a study answered {response.status_code}: {_page_errors(response.text)}"
        )
    return response, elapsed


# --- Report -------------------------------------------------------------------------------------


def _size(value: int) -> str:
    return f"{value / 1024:.1f} KB"


def report(
    timings: list[Timings], checks: list[Check], clinic: Clinic, note: str, elapsed: float
) -> bool:
    print()
    print(
        f"Viewer Admin benchmark: {clinic.users:,} users, {clinic.customers} Express customers, "
        f"{clinic.studies:,} studies; gunicorn {WORKERS} workers x {THREADS} threads, "
        f"{os.cpu_count()} CPUs"
    )
    print()
    header = f"{'request':<24}{'n':>5}{'p50':>10}{'p95':>10}{'max size':>11}   {'target':<24}"
    print(header)
    print("-" * (len(header) + 4))
    for t in timings:
        target = f"p95 < {t.target_p95_ms:.0f} ms"
        if t.max_bytes is not None:
            target += f", < {t.max_bytes // 1024} KB"
        print(
            f"{t.name:<24}{len(t.seconds):>5}{t.percentile_ms(50):>7.1f} ms"
            f"{t.percentile_ms(95):>7.1f} ms{_size(max(t.sizes, default=0)):>11}   "
            f"{target:<24}{'ok' if t.ok else 'MISSED'}"
        )
    print()
    header = f"{'check':<44}{'measured':>10}   {'target':<24}"
    print(header)
    print("-" * (len(header) + 4))
    for check in checks:
        print(
            f"{check.name:<44}{check.measured:>10}   {check.target:<24}"
            f"{'ok' if check.ok else 'MISSED'}"
        )
    print(note)
    passed = all(t.ok for t in timings) and all(c.ok for c in checks)
    print()
    missed = sum(not t.ok for t in timings) + sum(not c.ok for c in checks)
    verdict = "all targets met" if passed else f"{missed} target(s) missed"
    print(f"{verdict} in {elapsed:.0f} s")
    return passed


# --- Main ---------------------------------------------------------------------------------------


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="viewer-admin-benchmark-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(workdir: Path) -> bool:
    started = time.monotonic()
    port = free_port()
    env = _environment(f"sqlite:///{workdir / 'benchmark.sqlite3'}", port)
    password = secrets.token_urlsafe(18)
    step(f"Preparing a temporary database and a clinic of {USERS:,} users, {STUDIES:,} studies")
    clinic = prepare_database(env, password)
    step(f"Starting gunicorn on 127.0.0.1:{port}")
    server = start_server(env, port, workdir)
    try:
        wait_healthy(server)
        with httpx.Client(base_url=server.base_url, timeout=HTTP_TIMEOUT_SECONDS) as client:
            step("Signing in as coordinator and warming up")
            sign_in(client, password)
            warm_up(client)
            step("Measuring the assignee type-ahead")
            cold, warm, checks = bench_typeahead(client, server, clinic)
            step("Measuring the worklist")
            worklist, worklist_checks = bench_worklist(client, server, clinic)
            step("Measuring study creation through the full form")
            creating, create_checks = bench_create(client, server, clinic)
        memory = server_memory(server)
        checks += worklist_checks + create_checks
        checks.append(
            Check(
                f"server memory, master + {WORKERS} workers (MB)",
                f"{memory.rss_mb:.0f}",
                f"< {SERVER_RSS_MAX_MB:.0f}",
                memory.rss_mb < SERVER_RSS_MAX_MB,
            )
        )
        per_process = " + ".join(f"{mb:.0f}" for mb in memory.per_process_mb)
        note = f"Server VmRSS per process: {per_process} MB; peak (VmHWM) {memory.peak_mb:.0f} MB."
    except Exception:
        tail = server.log_text()[-3000:]
        if tail.strip():
            print("\n--- last lines of the server log ---", file=sys.stderr)
            print(tail, file=sys.stderr)
        raise
    finally:
        server.stop()
    timings = [cold, warm, *worklist, *creating]
    return report(timings, checks, clinic, note, time.monotonic() - started)


def main() -> int:
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with workspace() as workdir:
            return 0 if run(workdir) else 1
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: the server did not answer: {type(exc).__name__} {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped and temporary files removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
