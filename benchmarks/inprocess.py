"""The app in this process, through Django's test client: database queries per page, and a
profile of where a render's time goes. The Viewer API is still the sandbox upstream over real
HTTP, so every render does its real API work.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from benchmarks.pages import AppClient, Page, Reply

QUERY_SAMPLES: Final = 3
PROFILE_RENDERS: Final = 20

# Where a render's time goes: (label, module path fragment, function name). The first match of
# each label that is not nested in another match of the same label counts (cumulative time).
BUCKETS: Final = (
    ("Viewer API calls (httpx, network and upstream)", "httpx/_client.py", "send"),
    ("database queries", "django/db/backends/utils.py", "_execute"),
    ("template rendering", "django/template/response.py", "render"),
    ("session load/save", "django/contrib/sessions/backends/db.py", "load"),
    ("session load/save", "django/contrib/sessions/backends/db.py", "save"),
    ("sign-in check (request.user)", "django/contrib/auth/__init__.py", "get_user"),
    ("form validation", "django/forms/forms.py", "full_clean"),
    ("model parsing (pydantic)", "pydantic/main.py", "model_validate"),
    ("model parsing (pydantic)", "pydantic/type_adapter.py", "validate_python"),
    ("CSRF check", "django/middleware/csrf.py", "process_view"),
)


class DjangoApp:
    """`AppClient` over Django's test client, signed in as `username`."""

    def __init__(self, username: str) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.client = Client()
        self.client.force_login(get_user_model().objects.get(username=username))

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Reply:
        return _reply(self.client.get(url, headers=dict(headers or {})))

    def post(
        self, url: str, data: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> Reply:
        return _reply(self.client.post(url, data=dict(data), headers=dict(headers or {})))


def _reply(response: Any) -> Reply:
    return Reply(
        response.status_code,
        response.content.decode("utf-8", errors="replace"),
        response.headers.get("Location", ""),
    )


@dataclass(frozen=True)
class QueryCount:
    fewest: int
    most: int


def count_queries(pages: list[Page], app: AppClient) -> dict[str, QueryCount]:
    """Database queries of one render of each page (after a warm-up render)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, QueryCount] = {}
    for page in pages:
        page.app(app, -1)
        seen: list[int] = []
        for index in range(QUERY_SAMPLES):
            with CaptureQueriesContext(connection) as captured:
                page.app(app, 100 + index)
            seen.append(len(captured.captured_queries))
        counts[page.name] = QueryCount(min(seen), max(seen))
    return counts


def query_texts(page: Page, app: AppClient) -> list[str]:
    """The SQL of one render, for the report's detail."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        page.app(app, 200)
    return [query["sql"] for query in captured.captured_queries]


@dataclass(frozen=True)
class Profile:
    page: str
    per_render_ms: float
    buckets: dict[str, float]  # label → ms per render
    top: list[tuple[str, float, float]]  # (function, own ms, cumulative ms) per render


def profile(page: Page, app: AppClient, renders: int = PROFILE_RENDERS) -> Profile:
    """cProfile over `renders` renders of `page` (after a warm-up)."""
    page.app(app, -2)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(renders):
        page.app(app, 300 + index)
    profiler.disable()
    stats = pstats.Stats(profiler)
    # pstats.Stats fills `stats` in its constructor; typeshed does not declare the attribute.
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    total = max((entry[3] for entry in table.values()), default=0.0)
    buckets: dict[str, float] = {}
    for label, path, name in BUCKETS:
        cumulative = sum(
            entry[3]
            for (filename, _, function), entry in table.items()
            if function == name and filename.endswith(path)
        )
        buckets[label] = buckets.get(label, 0.0) + cumulative * 1000 / renders
    own = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:12]
    top = [
        (
            f"{_short(filename)}:{line} {function}",
            entry[2] * 1000 / renders,
            entry[3] * 1000 / renders,
        )
        for (filename, line, function), entry in own
    ]
    return Profile(page.name, total * 1000 / renders, buckets, top)


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename
