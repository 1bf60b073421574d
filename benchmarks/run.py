"""Speed, scale and weight of Viewer Admin against a large sandbox clinic: `script/benchmark`.

A throw-away PostgreSQL (`devservices.postgres`) holds everything; the sandbox fills it with a
large clinic (`sandbox.seed`). The app instances share a throw-away Redis as their cache
(`devservices.redis`), as a fleet is deployed (README, "Deploying"); without `redis-server` they
share the database cache, and the report says so. One gunicorn instance serves the sandbox
alone (the "upstream", standing in for the Viewer API) and two app instances talk to it, all on
loopback ports. The sandbox adds a fixed latency to every `/v1` call (a persistent latency
fault) and counts them.

1. Side by side, 50 ms then 0 ms upstream latency: each page against a bare httpx call doing
   the same API work, alternating (bare, app, bare, app …) on one app instance.
2. Database queries per page, counted in this process through Django's test client (the same
   database, the same upstream); with `--profile`, where a render's time goes (cProfile).
3. Many coordinators at once: LOAD_COORDINATORS signed-in coordinators against both app
   instances (round-robin), 50 ms upstream latency.
4. The static budget: every script and stylesheet a page loads, gzipped.

Targets (printed, never asserted in a test; exit status 1 when one is missed, 2 when the
benchmark could not run):

    50 ms upstream: every page's median app time ≤ 1.10 times the bare call's
    0 ms upstream: the worklist of 50 rows adds ≤ 8 ms, every other page ≤ 4 ms
    upstream calls per render: exactly the bare step's (1; 0 for a cached type-ahead)
    database queries per page: the same on every render and whatever the row count, at most
        the page's stated constant (`Page.db_queries`: 3 for a page, i.e. the user, the
        permissions and the unsent count; see benchmarks/pages.py for the others)
    load: 0 errors, 0 duplicate studies (by UID, through the API), each app worker's
        VmRSS < WORKER_RSS_MAX_MB; throughput and p50/p95/p99 per page are printed
    static: all JS and CSS a page loads ≤ STATIC_MAX_KB gzipped
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final

import httpx

from benchmarks import inprocess, load, pages
from benchmarks.html import asset_urls
from benchmarks.servers import (
    APP_THREADS,
    APP_WORKERS,
    ROOT,
    UPSTREAM_KEEP_ALIVE_SECONDS,
    UPSTREAM_THREADS,
    UPSTREAM_WORKERS,
    BenchmarkError,
    Server,
    environment,
    start_server,
    wait_ready,
)
from benchmarks.sidebyside import PageResult, Upstream, measure
from devservices import postgres, redis
from devservices.base import ServiceUnavailable, free_port

# --- Targets (see the module docstring) ---------------------------------------------------------

RATIO_MAX: Final = 1.10
WORKLIST_OVERHEAD_MAX_MS: Final = 8.0
OVERHEAD_MAX_MS: Final = 4.0
WORKER_RSS_MAX_MB: Final = 150.0
STATIC_MAX_KB: Final = 50.0

# --- Size of the clinic and of the runs ---------------------------------------------------------

USERS: Final = 5000
STUDIES: Final = 2000
LATENCIES: Final = ((0.050, 15), (0.0, 25))  # (seconds per upstream call, samples per page)
LOAD_COORDINATORS: Final = 50
STATIC_PAGES: Final = ("/", "/studies/new/")


@dataclass(frozen=True)
class Check:
    """A measured fact with its target."""

    name: str
    measured: str
    target: str
    ok: bool


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- Preparing the database ---------------------------------------------------------------------


def migrate_with_demo_users(env: Mapping[str, str], password: str) -> None:
    """Set Django up in this process on `env`'s database (no server runs yet), migrate it,
    create the cache table and the demo sign-ins."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("createcachetable", verbosity=0, stdout=quiet)
    call_command("create_demo_users", password=password, stdout=quiet)


def prepare_database(env: Mapping[str, str], password: str) -> None:
    """Migrate, create the cache table, the sign-ins (the demo `coordinator` and the load
    run's `coordinatorNN`) and the sandbox clinic, in this process (no server runs yet)."""
    migrate_with_demo_users(env, password)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connections

    from sandbox.seed import seed_sandbox
    from studies.roles import COORDINATORS

    user_model = get_user_model()
    hashed = make_password(password)  # once: hashing 50 times would take seconds
    people = user_model.objects.bulk_create(
        user_model(username=f"coordinator{n:02d}", password=hashed, first_name=f"Load {n}")
        for n in range(LOAD_COORDINATORS)
    )
    Group.objects.get(name=COORDINATORS).user_set.add(*people)
    seed_sandbox(users=USERS, studies=STUDIES)
    connections.close_all()


# --- The static budget --------------------------------------------------------------------------


def static_budget(app: pages.HttpxApp) -> tuple[float, list[str]]:
    """The largest gzipped total of the scripts and stylesheets one page loads (KB), and what
    each page loads."""
    largest = 0.0
    lines: list[str] = []
    for url in STATIC_PAGES:
        page = pages.expect(app.get(url), 200, f"GET {url}")
        sizes: list[tuple[str, int]] = []
        for asset in asset_urls(page.text):
            reply = pages.expect(app.get(asset), 200, f"GET {asset}")
            sizes.append((asset, len(gzip.compress(reply.text.encode(), compresslevel=9))))
        total = sum(size for _, size in sizes) / 1024
        largest = max(largest, total)
        listed = ", ".join(f"{Path(a).name} {s / 1024:.1f}" for a, s in sizes)
        lines.append(f"  {url:<16}{total:6.1f} KB gzipped ({listed})")
    return largest, lines


# --- Report -------------------------------------------------------------------------------------


def _overhead_max(name: str) -> float:
    return WORKLIST_OVERHEAD_MAX_MS if name == pages.Worklist.name else OVERHEAD_MAX_MS


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def side_by_side_table(
    latency: float, results: list[PageResult], queries: Mapping[str, inprocess.QueryCount]
) -> list[Check]:
    """Print one pass's table; its checks."""
    ms = latency * 1000
    samples = len(results[0].app) if results else 0
    print(f"\nSide by side, {ms:.0f} ms upstream latency per call (medians of {samples} pairs)")
    header = (
        f"{'page':<24}{'bare ms':>9}{'app ms':>9}{'overhead':>10}{'ratio':>7}"
        f"{'calls':>7}{'queries':>9}{'app CPU':>9}   target"
    )
    print(header)
    print("-" * (len(header) + 24))
    checks: list[Check] = []
    for r in results:
        if latency > 0:
            target, ok = f"ratio <= {RATIO_MAX:.2f}", r.ratio <= RATIO_MAX
            measured = f"{r.ratio:.2f}"
        else:
            limit = _overhead_max(r.name)
            target, ok = f"adds <= {limit:.0f} ms", r.overhead_ms <= limit
            measured = f"{r.overhead_ms:+.1f} ms"
        count = queries.get(r.name)
        shown = "-" if count is None else str(count.most)
        print(
            f"{r.name:<24}{r.bare_ms:9.1f}{r.app_ms:9.1f}{r.overhead_ms:+10.1f}{r.ratio:7.2f}"
            f"{r.calls_per_render:7.2f}{shown:>9}{r.cpu_ms_per_render:9.1f}   "
            f"{target:<16}{verdict(ok)}"
        )
        checks.append(Check(f"{r.name} at {ms:.0f} ms", measured, target, ok))
        checks.append(
            Check(
                f"{r.name}: upstream calls per render ({ms:.0f} ms)",
                f"{r.calls_per_render:.2f}",
                str(r.expected_calls),
                r.app_calls == r.expected_calls * len(r.app),
            )
        )
    return checks


def query_checks(
    counted: list[pages.Page], queries: Mapping[str, inprocess.QueryCount]
) -> list[Check]:
    checks: list[Check] = []
    for page in counted:
        count = queries[page.name]
        checks.append(
            Check(
                f"{page.name}: database queries",
                str(count.most) if count.fewest == count.most else f"{count.fewest}-{count.most}",
                f"<= {page.db_queries}, constant",
                count.fewest == count.most <= page.db_queries,
            )
        )
    full, empty = queries[pages.Worklist.name], queries[pages.WorklistEmpty.name]
    checks.append(
        Check(
            "worklist queries, 50 rows vs none",
            f"{full.most} vs {empty.most}",
            "equal",
            full.most == empty.most,
        )
    )
    return checks


def print_profiles(profiles: list[inprocess.Profile]) -> None:
    print("\nWhere a render's time goes (cProfile, in-process, 0 ms upstream; ms per render)")
    labels = list(dict.fromkeys(label for label, _, _ in inprocess.BUCKETS))
    for prof in profiles:
        parts = ", ".join(
            f"{label} {prof.buckets[label]:.1f}" for label in labels if prof.buckets[label] >= 0.05
        )
        print(f"  {prof.page:<24}{prof.per_render_ms:6.1f} total: {parts}")
        for function, own, cumulative in prof.top:
            print(f"      {own:6.2f} own {cumulative:7.2f} cum  {function}")
    by_name = {prof.page: prof for prof in profiles}
    full, empty = by_name.get(pages.Worklist.name), by_name.get(pages.WorklistEmpty.name)
    if full and empty:
        label = "template rendering"
        per_row = (full.buckets[label] - empty.buckets[label]) / pages.WORKLIST_ROWS
        print(f"  template rendering per worklist row: {per_row:.2f} ms (under the profiler)")


def load_table(result: load.LoadResult, instances: int) -> list[Check]:
    print(
        f"\nMany coordinators at once: {result.coordinators} coordinators x {load.ITERATIONS} "
        f"rounds, {instances} app instances ({APP_WORKERS} workers x {APP_THREADS} threads "
        "each) on one PostgreSQL, 50 ms upstream latency"
    )
    throughput = result.requests / result.seconds if result.seconds else 0.0
    print(f"  {result.requests} requests in {result.seconds:.1f} s: {throughput:.1f} requests/s")
    header = f"  {'page':<22}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    print(header)
    for kind in load.KINDS:
        values = result.timings.get(kind, [])
        print(
            f"  {kind:<22}{len(values):>5}{result.percentile_ms(kind, 50):9.1f}"
            f"{result.percentile_ms(kind, 95):9.1f}{result.percentile_ms(kind, 99):9.1f}"
        )
    for error in result.errors[:5]:
        print(f"  error: {error}")
    rss = " ".join(f"{mb:.0f}" for mb in result.worker_rss_mb)
    print(f"  app worker VmRSS (MB): {rss}")
    print(
        f"  creates: {result.creates} distinct UIDs sent, {result.studies_found} studies found "
        "by the API"
    )
    biggest = max(result.worker_rss_mb, default=0.0)
    return [
        Check("load: errors", str(len(result.errors)), "0", not result.errors),
        Check(
            "load: duplicate studies (by UID)", str(result.duplicates), "0", not result.duplicates
        ),
        Check("load: creates missing in the API", str(result.missing), "0", not result.missing),
        Check(
            "load: app worker VmRSS, largest (MB)",
            f"{biggest:.0f}",
            f"< {WORKER_RSS_MAX_MB:.0f}",
            0 < biggest < WORKER_RSS_MAX_MB,
        ),
    ]


def print_checks(checks: list[Check]) -> bool:
    """Every figure with its target and PASS or MISS; True when all pass."""
    missed = [check for check in checks if not check.ok]
    print("\nTargets")
    header = f"{'figure':<56}{'measured':>12}   {'target':<20}"
    print(header)
    print("-" * (len(header) + 6))
    for check in checks:
        print(f"{check.name:<56}{check.measured:>12}   {check.target:<20}{verdict(check.ok)}")
    print(f"\n{len(checks) - len(missed)} of {len(checks)} targets met.")
    return not missed


# --- Main ---------------------------------------------------------------------------------------


@contextmanager
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="viewer-admin-benchmark-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def stop_all(servers: list[Server]) -> None:
    for server in servers:
        server.stop()


def run(workdir: Path, stack: ExitStack, *, profile_pages: bool) -> bool:
    started = time.monotonic()
    step("Starting a throw-away PostgreSQL and Redis")
    database_url = stack.enter_context(postgres.running())
    try:
        redis_url = stack.enter_context(redis.running())
    except ServiceUnavailable as exc:
        print(f"  {exc}\n  The app instances share the database cache instead.", flush=True)
        redis_url = ""
    upstream_port = free_port()
    api_url = f"http://127.0.0.1:{upstream_port}/sandbox"
    app_env = environment(database_url, api_url, sandbox=False, redis_url=redis_url)
    password = secrets.token_urlsafe(18)
    step(f"Migrating and seeding a clinic of {USERS:,} users and {STUDIES:,} studies")
    prepare_database(app_env, password)

    step("Starting gunicorn: the sandbox upstream and two app instances")
    servers: list[Server] = []
    stack.callback(stop_all, servers)
    upstream = start_server(
        "upstream",
        environment(database_url, api_url, sandbox=True),
        workdir,
        port=upstream_port,
        workers=UPSTREAM_WORKERS,
        threads=UPSTREAM_THREADS,
        keep_alive=UPSTREAM_KEEP_ALIVE_SECONDS,
    )
    servers.append(upstream)
    for name in ("app-1", "app-2"):
        servers.append(
            start_server(
                name,
                app_env,
                workdir,
                workers=APP_WORKERS,
                threads=APP_THREADS,
                deployed_config=True,
            )
        )
    try:
        for server in servers:
            wait_ready(server, "/login/")
        cache = "Redis" if redis_url else "the database cache"
        return measure_all(
            servers, api_url, password, started, cache=cache, profile_pages=profile_pages
        )
    except Exception:
        for server in servers:
            tail = server.log_tail()
            if tail.strip():
                print(f"\n--- last lines of the {server.name} log ---", file=sys.stderr)
                print(tail, file=sys.stderr)
        raise


def measure_all(
    servers: list[Server],
    api_url: str,
    password: str,
    started: float,
    *,
    cache: str,
    profile_pages: bool,
) -> bool:
    _, first, second = servers
    api = pages.BareApi(api_url)
    control = Upstream(api_url)
    app = pages.HttpxApp([first.base_url])
    try:
        fixtures = pages.load_fixtures(api)
        pages.sign_in(app, "coordinator", password)
        step("Static budget")
        static_kb, static_lines = static_budget(app)

        passes: list[tuple[float, list[PageResult]]] = []
        for number, (latency, samples) in enumerate(LATENCIES):
            step(f"Side by side at {latency * 1000:.0f} ms upstream latency, {samples} pairs/page")
            control.set_latency(latency)
            measured = pages.all_pages(fixtures)
            for page in measured:
                if isinstance(page, pages.TypeAhead) and not isinstance(
                    page, pages.TypeAheadCached
                ):
                    page.offset = 100 * (number + 1)
            passes.append(
                (latency, measure(measured, app, api, control, samples, first.cpu_seconds))
            )

        step("Database queries per page (in this process, 0 ms upstream)")
        django_app = inprocess.DjangoApp("coordinator")
        counted = [pages.WorklistEmpty(fixtures), *pages.all_pages(fixtures)]
        for page in counted:
            if isinstance(page, pages.TypeAhead):
                page.offset = 500 if not isinstance(page, pages.TypeAheadCached) else 0
        queries = inprocess.count_queries(counted, django_app)
        profiles: list[inprocess.Profile] = []
        sql: dict[str, list[str]] = {}
        if profile_pages:
            step("Profiling every page (in this process, 0 ms upstream)")
            profiles = [inprocess.profile(page, django_app) for page in counted]
            sql = {
                page.name: inprocess.query_texts(page, django_app)
                for page in counted
                if isinstance(page, pages.Worklist | pages.Create | pages.QuickCreate)
            }

        step(f"Load: {LOAD_COORDINATORS} coordinators on two app instances, 50 ms upstream")
        control.set_latency(0.050)
        label = f"Load run {secrets.token_hex(4)}"
        result = load.run_load(
            [first.base_url, second.base_url], fixtures, password, api, LOAD_COORDINATORS, label
        )
        result.worker_rss_mb = first.worker_rss_mb() + second.worker_rss_mb()
        control.clear()
    finally:
        for closeable in (api, control, app):
            closeable.close()
        from django.db import connections

        connections.close_all()

    print(
        f"\nViewer Admin benchmark: {USERS:,} users, {STUDIES:,} studies, PostgreSQL, cache in "
        f"{cache}; app: gunicorn {APP_WORKERS} workers x {APP_THREADS} threads; "
        f"{os.cpu_count()} CPUs"
    )
    checks: list[Check] = []
    for latency, results in passes:
        checks += side_by_side_table(latency, results, queries)
    print(
        "  calls: upstream calls per render (the sandbox's count); queries: database queries of\n"
        "  one render (create: GET + POST); app CPU: ms of CPU the app's workers spent per render\n"
        "  (what it adds on an idle machine, however busy this one is)"
    )
    checks += query_checks(counted, queries)
    if profiles:
        print_profiles(profiles)
    for name, texts in sql.items():
        print(f"\n  SQL of one render: {name}")
        for text in texts:
            print(f"    {text[:160]}")
    checks += load_table(result, 2)
    print("\nStatic budget: the scripts and stylesheets a page loads")
    for line in static_lines:
        print(line)
    checks.append(
        Check(
            "static: JS + CSS per page, gzipped (KB)",
            f"{static_kb:.1f}",
            f"<= {STATIC_MAX_KB:.0f}",
            static_kb <= STATIC_MAX_KB,
        )
    )
    passed = print_checks(checks)
    print(f"Done in {time.monotonic() - started:.0f} s.")
    return passed


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="script/benchmark", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile every page in-process: where a render's time goes, its top "
        "functions, the SQL of a worklist and of the creates",
    )
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with workspace() as workdir, ExitStack() as stack:
            return 0 if run(workdir, stack, profile_pages=args.profile) else 1
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
