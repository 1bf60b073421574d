"""Shared fixtures: demo users, and Playwright driving Debian's Chromium against live_server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxFault
from sandbox.seed import SeedResult, seed_sandbox
from studies import viewer_api
from studies.roles import COORDINATORS, OBSERVERS, ensure_roles
from tests.viewer_api_fake import FakeAPI

# Service fixtures that start real processes, one module each.
pytest_plugins = [
    "tests.services.app_instances",
    "tests.services.oidc_provider",
    "tests.services.orthanc",  # a real Orthanc PACS
    "tests.services.redis",
    "tests.services.script_server",
    "tests.services.task_worker",  # the real task worker (study imports)
]

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is intended (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"


def pytest_report_header() -> str:
    """Which database and cache this run uses (script/test runs the suite on more than one)."""
    database = django_settings.DATABASES["default"]
    backend = django_settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"database: {database['ENGINE'].rsplit('.', 1)[-1]}, cache: {backend}"


def make_user(username: str, group: str) -> User:
    # Transactional tests (browser tests) flush the tables, data-migration rows included.
    ensure_roles(Group, Permission, ContentType)
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Start every test with an empty cache (local memory, or Redis in the run that has
    REDIS_URL; tests/settings.py), so cached API lists never leak from one test to the next."""
    cache.clear()


@pytest.fixture
def coordinator(db: None) -> User:
    return make_user("coordinator", COORDINATORS)


@pytest.fixture
def observer(db: None) -> User:
    return make_user("observer", OBSERVERS)


@pytest.fixture
def coordinator_client(client: Any, coordinator: User) -> Any:
    client.force_login(coordinator)
    return client


@pytest.fixture
def observer_client(client: Any, observer: User) -> Any:
    client.force_login(observer)
    return client


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Debian's chromium is required for the browser tests (script/test installs it)."
        )
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        # The machine has no network beyond loopback: keep Chromium from trying.
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# Responses that are an answer, not a broken page: a 4xx/5xx document or htmx request is one
# the app meant to send (its 404 page, a 503 banner); Chromium logs each as a console error.
_ANSWER_RESOURCE_TYPES = {"document", "xhr", "fetch"}
_FAILED_LOAD = "Failed to load resource: the server responded with a status of"


def _watch_context(context: BrowserContext, problems: list[str], app: str | None) -> None:
    """Collect, from every page of `context`, console errors (a CSP violation is one) and
    uncaught exceptions, except the log line of a 4xx/5xx answer the app meant to give. `app`
    (the live server's URL): only its pages count; another server's page (the OpenID
    provider's sign-in page asks for web fonts, unreachable here) is not the app's."""
    answers: set[str] = set()

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type in _ANSWER_RESOURCE_TYPES:
            answers.add(response.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = str(message.location.get("url") or "")
        page = message.page
        if app and page is not None and not page.url.startswith(app):
            return
        # A page of another server (the OpenID provider's, the sandbox's Viewer placeholder)
        # has no icon: the browser's own request for /favicon.ico is not the page's error.
        if message.text.startswith(_FAILED_LOAD) and (
            url in answers or url.endswith("/favicon.ico")
        ):
            return
        problems.append(f"console error: {message.text} ({url})")

    context.on("response", on_response)
    context.on("console", on_console)
    context.on("weberror", lambda error: problems.append(f"uncaught error: {error.error}"))


@pytest.fixture(autouse=True)
def _browser_console_clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test fails on a console error or a CSP violation in any of its pages
    (those of `page` and of every context it opens itself, e.g. without JavaScript). A test
    that provokes one on purpose says so with `@pytest.mark.console_errors_expected`."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser: Browser = request.getfixturevalue("browser")
    problems: list[str] = []
    original = browser.new_context
    app = (
        str(request.getfixturevalue("live_server").url)
        if "live_server" in request.fixturenames
        else None
    )

    def new_context(*args: Any, **kwargs: Any) -> BrowserContext:
        context = original(*args, **kwargs)
        _watch_context(context, problems, app)
        return context

    browser.new_context = new_context  # type: ignore[method-assign]
    try:
        yield
    finally:
        del browser.new_context  # the class's method again
    if problems and request.node.get_closest_marker("console_errors_expected") is None:
        pytest.fail("The browser reported:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """Console errors from the page; a CSP violation shows up here."""
    errors: list[str] = []
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    return errors


@pytest.fixture
def sign_in(page: Page, live_server: Any) -> Callable[[str], Page]:
    """Sign in through the real login form as the given user; returns the page."""

    def _sign_in(username: str) -> Page:
        return sign_in_through_form(page, live_server.url, username)

    return _sign_in


def sign_in_through_form(page: Page, base_url: str, username: str) -> Page:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
    return page


@pytest.fixture
def no_js_page(
    browser: Browser, live_server: Any, sandbox_url: str, coordinator: User
) -> Iterator[Page]:
    """A page with JavaScript turned off, signed in as the coordinator, on the worklist."""
    context = browser.new_context(java_script_enabled=False)
    yield sign_in_through_form(context.new_page(), live_server.url, "coordinator")
    context.close()


# --- Viewer API ------------------------------------------------------------------------------


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    """The in-process fake Viewer API (tests/viewer_api_fake.py) as the process-wide client; for
    what the sandbox cannot do over HTTP. Nothing is served until the test says what."""
    fake = FakeAPI()
    viewer_api.set_client(fake.client())
    yield fake
    viewer_api.set_client(None)


# --- Viewer API sandbox ----------------------------------------------------------------------


@pytest.fixture
def sandbox_url(live_server: Any, settings: Any) -> str:
    """The sandbox served by live_server, e.g. "http://localhost:PORT/sandbox"; the app's
    VIEWER_API_BASE_URL points at it (the key is the default settings.VIEWER_API_KEY).

    Needs @pytest.mark.django_db(transaction=True). Transactional tests start with empty tables:
    create sandbox data with `sandbox_factory` or `sandbox_seeded`.
    """
    url = f"{live_server.url}/sandbox"
    settings.VIEWER_API_BASE_URL = url
    return url


class SandboxFaults:
    """Arms faults through the sandbox's control endpoint, over HTTP like any outside caller."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/_sandbox/faults"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {django_settings.VIEWER_API_KEY}"}

    def arm(self, fault: str, **options: Any) -> dict[str, Any]:
        """Arm a fault; snake_case options become the endpoint's camelCase keys, e.g.
        `arm("rate_limit", retry_after=2, path="/v1/viewer/studies", method="POST", count=3)`.
        Returns the armed fault as JSON (with its "id")."""
        body: dict[str, Any] = {"fault": fault}
        for name, value in options.items():
            head, *rest = name.split("_")
            body[head + "".join(part.title() for part in rest)] = value
        response = httpx.post(self.url, json=body, headers=self._headers(), timeout=10)
        assert response.status_code == 201, response.text
        return response.json()

    def armed(self) -> list[dict[str, Any]]:
        """The faults still armed."""
        response = httpx.get(self.url, headers=self._headers(), timeout=10)
        assert response.status_code == 200, response.text
        return response.json()["faults"]

    def clear(self) -> None:
        """Disarm every fault."""
        response = httpx.delete(self.url, headers=self._headers(), timeout=10)
        assert response.status_code == 200, response.text


@pytest.fixture
def sandbox_faults(sandbox_url: str) -> Iterator[SandboxFaults]:
    """Arm sandbox faults for the live server: `sandbox_faults.arm("status", status=503)`.

    Teardown disarms everything, which also ends requests still hanging on a fault.
    """
    faults = SandboxFaults(sandbox_url)
    yield faults
    try:
        faults.clear()
    except (httpx.HTTPError, AssertionError):
        SandboxFault.objects.all().delete()


@pytest.fixture
def sandbox_factory(db: None) -> SandboxFactory:
    """Rows straight into the sandbox's tables, in the clinic of VIEWER_API_KEY:
    `.user(**fields)`, `.customer(members=[...], **fields)`, `.study(**fields)` and
    `.api_key(raw_key, clinic_id=..., is_viewer_enabled=...)` (model field names)."""
    return SandboxFactory()


@pytest.fixture
def sandbox_seeded(db: None) -> SeedResult:
    """A small seeded dataset in the clinic of VIEWER_API_KEY: 8 users (an owner, a revoked
    user), 3 Express customers (one deactivated) and 12 studies."""
    return seed_sandbox(users=8, studies=12)
