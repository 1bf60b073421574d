"""The ratio, side by side: each page against the bare API work it stands on, alternating
(bare, app, bare, app …) in one run, with a fixed latency the sandbox adds to every `/v1` call.

Upstream calls are counted by the sandbox itself: the persistent latency fault that injects the
latency also counts the requests it applied to (`applied`); the bare client counts its own
through an httpx event hook, and the difference is what the app made.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from benchmarks.pages import AppClient, BareApi, Page, timed
from benchmarks.servers import API_KEY, BenchmarkError


class Upstream:
    """The sandbox's control endpoint: a persistent latency on every `/v1` call, and its count
    of the calls it delayed."""

    def __init__(self, api_base_url: str) -> None:
        self.http = httpx.Client(
            base_url=api_base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=30.0,
        )
        self.fault_id = ""

    def set_latency(self, seconds: float) -> None:
        self.http.delete("_sandbox/faults").raise_for_status()
        armed = self.http.post(
            "_sandbox/faults", json={"fault": "latency", "seconds": seconds, "persistent": True}
        )
        if armed.status_code != 201:
            raise BenchmarkError(f"Arming the sandbox latency answered {armed.status_code}.")
        self.fault_id = armed.json()["id"]

    def calls(self) -> int:
        """`/v1` calls the sandbox has answered since the latency was set."""
        for fault in self.http.get("_sandbox/faults").json()["faults"]:
            if fault["id"] == self.fault_id:
                return int(fault["applied"])
        raise BenchmarkError("The sandbox latency fault disappeared.")

    def clear(self) -> None:
        self.http.delete("_sandbox/faults")

    def close(self) -> None:
        self.http.close()


@dataclass
class PageResult:
    name: str
    expected_calls: int
    bare: list[float] = field(default_factory=list)
    app: list[float] = field(default_factory=list)
    app_calls: int = 0
    app_cpu_seconds: float = 0.0

    @property
    def bare_ms(self) -> float:
        return statistics.median(self.bare) * 1000

    @property
    def app_ms(self) -> float:
        return statistics.median(self.app) * 1000

    @property
    def overhead_ms(self) -> float:
        return self.app_ms - self.bare_ms

    @property
    def ratio(self) -> float:
        return self.app_ms / self.bare_ms

    @property
    def calls_per_render(self) -> float:
        return self.app_calls / len(self.app)

    @property
    def cpu_ms_per_render(self) -> float:
        """CPU the app's workers spent per render: what the app adds, on an idle machine,
        whatever else the machine is busy with."""
        return self.app_cpu_seconds * 1000 / len(self.app)


def measure(
    pages: list[Page],
    app: AppClient,
    api: BareApi,
    upstream: Upstream,
    samples: int,
    app_cpu: Callable[[], float],
) -> list[PageResult]:
    """Every page: its untimed warm-up, then `samples` alternating pairs. `app_cpu` reads the
    CPU seconds the app instance has used."""
    results: list[PageResult] = []
    for page in pages:
        page.warm_up(app, api)
        result = PageResult(page.name, page.api_calls)
        before, bare_before = upstream.calls(), api.calls
        cpu_before = app_cpu()
        for index in range(samples):
            result.bare.append(timed(page.bare, api, index))
            result.app.append(timed(page.app, app, index))
        result.app_cpu_seconds = app_cpu() - cpu_before
        result.app_calls = upstream.calls() - before - (api.calls - bare_before)
        results.append(result)
    return results
