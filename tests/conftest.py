"""Shared fixtures: demo users, and Playwright driving Debian's Chromium against live_server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from playwright.sync_api import Page

from studies.roles import COORDINATORS, OBSERVERS, ensure_roles

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is intended (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"


def make_user(username: str, group: str) -> User:
    # Transactional tests (browser tests) flush the tables, data-migration rows included.
    ensure_roles(Group, Permission, ContentType)
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


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
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _sign_in
