"""Many coordinators at once: signed-in coordinators (one thread each, a bounded loop) mix the
worklist, detail pages, the type-ahead and creates against several app instances behind a
round-robin, sharing one database. Some creates are sent twice at once, to two instances (a
double click behind a load balancer); the API must still hold exactly one study per UID.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

import httpx

from benchmarks.pages import (
    WORKLIST,
    BareApi,
    Create,
    Detail,
    Fixtures,
    HttpxApp,
    Reply,
    TypeAhead,
    Worklist,
    expect,
    next_cursor,
    sign_in,
)
from benchmarks.servers import BenchmarkError

ITERATIONS: Final = 3
DOUBLE_SUBMIT_EVERY: Final = 2  # every second create of a coordinator is sent twice at once
KINDS: Final = ("worklist", "detail page", "type-ahead", "create GET + POST", "double submit")


@dataclass
class LoadResult:
    coordinators: int
    seconds: float = 0.0
    requests: int = 0
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    creates: int = 0
    studies_found: int = 0
    duplicates: int = 0
    missing: int = 0
    worker_rss_mb: list[float] = field(default_factory=list)

    def percentile_ms(self, kind: str, percent: int) -> float:
        values = sorted(self.timings[kind])
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] * 1000


class Coordinator:
    """One signed-in coordinator's loop."""

    def __init__(
        self, number: int, instances: list[str], fixtures: Fixtures, run_label: str
    ) -> None:
        self.number = number
        turn = number % len(instances)
        # Like a proxy in front of gunicorn (nginx's default), one connection per request.
        self.app = HttpxApp(instances[turn:] + instances[:turn], keep_alive=False)
        self.instances = instances
        self.worklist = Worklist(fixtures)
        self.detail = Detail(fixtures)
        self.typeahead = TypeAhead(fixtures)
        self.typeahead.offset = 1000 + number * ITERATIONS
        self.create = Create(fixtures)
        self.create.label = f"{run_label} c{number}"
        self.uids: list[str] = []
        self.requests = 0
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def _step(self, kind: str, requests: int, action: Callable[..., None], *args: object) -> None:
        started = time.perf_counter()
        try:
            action(*args)
        except (BenchmarkError, httpx.HTTPError) as exc:
            self.errors.append(f"{kind}: {type(exc).__name__} {exc}"[:300])
        else:
            self.timings[kind].append(time.perf_counter() - started)
        self.requests += requests

    def run(self) -> None:
        for iteration in range(ITERATIONS):
            index = self.number * ITERATIONS + iteration
            self._step("worklist", 1, self.worklist.app, self.app, iteration)
            self._step("detail page", 1, self.detail.app, self.app, index)
            self._step("type-ahead", 1, self.typeahead.app, self.app, iteration)
            if iteration % DOUBLE_SUBMIT_EVERY == DOUBLE_SUBMIT_EVERY - 1:
                self._step("double submit", 3, self._double_submit, index)
            else:
                self._step("create GET + POST", 2, self._create, index)

    def _create(self, index: int) -> None:
        fields = self.create.filled_form(self.app, index)
        self.uids.append(fields["study_instance_uid"])
        reply = expect(self.app.post("/studies/new/", fields), 302, "POST /studies/new/")
        if not reply.location.startswith("/studies/stu_"):
            raise BenchmarkError(f"The create led to {reply.location}.")

    def _double_submit(self, index: int) -> None:
        """The same filled form POSTed to two instances at once: one creates, the other says
        it was already sent (302 to the same study) or still in progress (the form again)."""
        fields = self.create.filled_form(self.app, index)
        self.uids.append(fields["study_instance_uid"])
        replies: list[Reply] = []
        lock = threading.Lock()

        def post(base: str) -> None:
            with httpx.Client(cookies=self.app.http.cookies, timeout=30) as http:
                response = http.post(f"{base}/studies/new/", data=fields, headers={"Origin": base})
            reply = Reply(response.status_code, response.text, response.headers.get("location", ""))
            with lock:
                replies.append(reply)

        threads = [threading.Thread(target=post, args=(base,)) for base in self.instances[:2]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        created = [r.location for r in replies if r.status == 302]
        others = [r.status for r in replies if r.status != 302]
        if not created or len(set(created)) != 1 or any(status != 200 for status in others):
            raise BenchmarkError(
                f"A double submit answered {[r.status for r in replies]} "
                f"leading to {sorted(set(created))}."
            )


def sign_in_all(coordinators: list[Coordinator], password: str) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(lambda c: sign_in(c.app, f"coordinator{c.number:02d}", password), coordinators)
        )


def run_load(
    instances: list[str],
    fixtures: Fixtures,
    password: str,
    api: BareApi,
    coordinators: int,
    run_label: str,
) -> LoadResult:
    people = [Coordinator(n, instances, fixtures, run_label) for n in range(coordinators)]
    result = LoadResult(coordinators=coordinators)
    try:
        sign_in_all(people, password)
        # Everyone warms the page they start with, untimed.
        for person in people:
            expect(person.app.get(WORKLIST), 200, f"GET {WORKLIST}")
        started = time.perf_counter()
        threads = [threading.Thread(target=person.run) for person in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result.seconds = time.perf_counter() - started
    finally:
        for person in people:
            person.app.close()
    for person in people:
        result.requests += person.requests
        result.errors += person.errors
        for kind, values in person.timings.items():
            result.timings[kind] += values
    sent = [uid for person in people for uid in person.uids]
    result.creates = len(sent)
    found = Counter(_uids_in_api(api, run_label))
    result.studies_found = sum(found.values())
    result.duplicates = sum(count - 1 for count in found.values() if count > 1)
    result.missing = len(set(sent) - set(found))
    return result


def _uids_in_api(api: BareApi, run_label: str) -> list[str]:
    """Study Instance UIDs of every study this run created, read back through the API."""
    uids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"studyDescription": run_label, "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        page = api.get("v1/viewer/studies", params)
        uids += [study["studyInstanceUid"] for study in page["studies"]]
        cursor = next_cursor(page)
        if not cursor:
            return uids
