"""No identifier in any log line: the app served by `script/server`, in production mode
(gunicorn) and in local mode (runserver), driven through every page with identifying values,
writes none of them to stdout, stderr or a log file."""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.pages import input_value
from tests.services.script_server import ScriptServer

UID_EXISTING = "1.2.840.99999.777.1"
UID_MISSING = "1.2.840.99999.888.2"
UID_CREATED = "1.2.840.99999.555.3"
UID_QUICK = "1.2.840.99999.555.4"
FIRST_NAME = "Ximenaqa"
LAST_NAME = "Haddadovitch"
EMAIL = "ximenaqa.haddadovitch@clinic.example"
DESCRIPTION = "Perfusion Zebulonix"
CREATED_DESCRIPTION = "Angiogram Quillfeatherby"
EDITED_DESCRIPTION = "Angiogram Marrowdaleton"
QUICK_DESCRIPTION = "Sonogram Thistlewaite"
META_VALUE = "Bed Nightingalex 7"
CUSTOMER = "Grimsbyqa Imaging"
PASSWORD = "privacy-test-password"

# What must never appear in any server output, in any letter case.
IDENTIFIERS = [
    UID_EXISTING,
    UID_MISSING,
    UID_CREATED,
    UID_QUICK,
    "1.2.840.99999",
    FIRST_NAME,
    LAST_NAME,
    "ximenaqa.haddadovitch",
    "Zebulonix",
    "Quillfeatherby",
    "Marrowdaleton",
    "Thistlewaite",
    "Nightingalex",
    "Grimsbyqa",
]

SETUP = f"""
from django.contrib.auth.models import Group, User
from sandbox.factories import SandboxFactory
from studies.roles import COORDINATORS
user, _ = User.objects.get_or_create(username="privacy")
user.set_password({PASSWORD!r})
user.save()
user.groups.set([Group.objects.get(name=COORDINATORS)])
factory = SandboxFactory()
assignee = factory.user(first_name={FIRST_NAME!r}, last_name={LAST_NAME!r}, email={EMAIL!r})
customer = factory.customer(members=[assignee], name={CUSTOMER!r})
study = factory.study(
    study_instance_uid={UID_EXISTING!r},
    study_description={DESCRIPTION!r},
    assigned_to=assignee,
    express_customer=customer,
    metadata={{"ward": {META_VALUE!r}}},
)
print(assignee.user_id, customer.customer_id, study.study_id)
"""


class Browserish:
    """An HTTP client that behaves like a browser behind the TLS proxy: it keeps cookies
    itself (secure cookies included), and sends an identifying Referer with every request."""

    def __init__(self, server: ScriptServer) -> None:
        self.server = server
        self.cookies: dict[str, str] = {}
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        # Production runs behind a TLS proxy (DJANGO_BEHIND_TLS_PROXY), which this client
        # plays; locally the browser talks plain HTTP to runserver.
        secure = server.mode == "production"
        self.origin = f"{'https' if secure else 'http'}://127.0.0.1:{server.port}"
        self.proxy_headers = {"X-Forwarded-Proto": "https"} if secure else {}
        self.requests = 0

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {
            **self.proxy_headers,
            "Origin": self.origin,
            "Referer": f"{self.origin}/?q=Zebulonix&assignee_query={EMAIL}&uid={UID_EXISTING}",
            **kwargs.pop("headers", {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, url, headers=headers, **kwargs)
        self.requests += 1
        for cookie in response.headers.get_list("set-cookie"):
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, str], page: str | None = None) -> httpx.Response:
        token = input_value(page, "csrfmiddlewaretoken") if page else None
        body = {"csrfmiddlewaretoken": token or self.cookies.get("csrftoken", ""), **data}
        return self.request("POST", url, data=body)


def _raw_request(port: int, line: bytes) -> None:
    """A malformed request line, as a careless client might send it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        sock.settimeout(10)
        with contextlib.suppress(TimeoutError):
            sock.recv(4096)


def drive_every_page(server: ScriptServer, ids: tuple[str, str, str]) -> Browserish:
    user_id, customer_id, study_id = ids
    browser = Browserish(server)
    login = browser.get("/login/")
    assert login.status_code == 200
    signed_in = browser.post(
        "/login/", {"username": "privacy", "password": PASSWORD}, page=login.text
    )
    assert signed_in.status_code == 302, signed_in.text[:500]

    # The worklist, its filters and type-aheads.
    assert browser.get("/", params={"q": "Zebulonix"}).status_code == 200
    filtered = browser.get(
        "/",
        params={
            "q": "Zebulonix",
            "assignee_query": LAST_NAME,
            "assigned_to": user_id,
            "customer": customer_id,
        },
    )
    assert DESCRIPTION in filtered.text
    htmx = {"HX-Request": "true"}
    browser.get(
        "/studies/assignees/", params={"for": "filter", "assignee_query": EMAIL}, headers=htmx
    )
    browser.get("/", params={"q": "Zebulonix"}, headers={**htmx, "HX-Target": "worklist-results"})
    found = browser.get("/studies/assignees/", params={"q": LAST_NAME})
    assert EMAIL in found.text
    browser.get("/studies/assignees/", params={"q": EMAIL})
    quick_search = {"prefix": "quick", "quick-assignee_query": FIRST_NAME}
    browser.get("/studies/assignees/", params=quick_search)

    # Look-ups by UID: found, and not found (django.request's "Not Found: /…").
    assert browser.get("/studies/lookup/", params={"uid": UID_EXISTING}).status_code == 302
    assert browser.get("/studies/lookup/", params={"uid": UID_MISSING}).status_code == 404
    assert browser.get(f"/studies/by-uid/{UID_EXISTING}/").status_code == 302
    assert browser.get(f"/studies/by-uid/{UID_MISSING}/").status_code == 404
    assert browser.get(f"/studies/{UID_MISSING}/").status_code == 404
    # Refused requests are logged by Django too: wrong method, missing CSRF token.
    assert browser.request("POST", f"/studies/lookup/?uid={UID_MISSING}").status_code in (403, 405)
    assert browser.request("POST", f"/studies/by-uid/{UID_MISSING}/").status_code == 403

    # The full create form: pre-filled from the query string, then sent.
    new = browser.get(
        "/studies/new/",
        params={
            "study_description": CREATED_DESCRIPTION,
            "study_instance_uid": UID_CREATED,
            "assignee_query": LAST_NAME,
        },
    )
    assert new.status_code == 200
    created = browser.post(
        "/studies/new/",
        {
            "token": input_value(new.text, "token") or "",
            "severity": "high",
            "study_description": CREATED_DESCRIPTION,
            "study_instance_uid": UID_CREATED,
            "assignee_query": LAST_NAME,
            "assigned_to": user_id,
            "express_customer_id": customer_id,
            "metadata-TOTAL_FORMS": "1",
            "metadata-INITIAL_FORMS": "0",
            "metadata-MIN_NUM_FORMS": "0",
            "metadata-MAX_NUM_FORMS": "50",
            "metadata-0-key": "bed",
            "metadata-0-value": META_VALUE,
            "action": "create",
        },
        page=new.text,
    )
    assert created.status_code == 302, created.text[:2000]
    new_id = created.headers["location"].rstrip("/").rsplit("/", 1)[-1]

    # The study's pages and every change made from them.
    for sid in (study_id, new_id):
        detail = browser.get(f"/studies/{sid}/")
        assert detail.status_code == 200
    edit = browser.get(f"/studies/{new_id}/edit/")
    assert edit.status_code == 200
    saved = browser.post(
        f"/studies/{new_id}/edit/",
        {
            "original": input_value(edit.text, "original") or "",
            "severity": "stat",
            "study_description": EDITED_DESCRIPTION,
            "study_viewer_status": "incomplete",
            "assignee_query": FIRST_NAME,
            "assigned_to": user_id,
            "metadata-TOTAL_FORMS": "1",
            "metadata-INITIAL_FORMS": "0",
            "metadata-MIN_NUM_FORMS": "0",
            "metadata-MAX_NUM_FORMS": "50",
            "metadata-0-key": "bed",
            "metadata-0-value": META_VALUE + " moved",
            "action": "save",
        },
        page=edit.text,
    )
    assert saved.status_code == 302, saved.text[:2000]
    page = browser.get(f"/studies/{new_id}/").text
    assert browser.post(f"/studies/{new_id}/status/", {"study_viewer_status": "complete"}, page)
    confirm = browser.get(f"/studies/{new_id}/cancel/")
    assert browser.post(f"/studies/{new_id}/cancel/", {}, confirm.text).status_code == 302
    assert browser.post(f"/studies/{new_id}/uncancel/", {}, confirm.text).status_code == 302
    opened = browser.post(f"/studies/{study_id}/open/", {}, page)
    assert opened.status_code == 302, opened.text[:500]
    viewer = httpx.URL(opened.headers["location"])
    browser.get(f"{viewer.path}?{viewer.query.decode()}")

    # Quick-create, its no-JavaScript assignee search, and the unsent list.
    home = browser.get("/?filters=none").text  # a plain / brings the last filters back
    quick = {
        "quick-token": input_value(home, "quick-token") or "",
        "quick-severity": "normal",
        "quick-study_description": QUICK_DESCRIPTION,
        "quick-study_instance_uid": UID_QUICK,
        "quick-assignee_query": LAST_NAME,
        "quick-assigned_to": user_id,
    }
    searched = browser.post("/", {**quick, "action": "search_assignee"}, home)
    assert EMAIL in searched.text
    assert browser.post("/", {**quick, "action": "create"}, home).status_code == 302
    assert browser.get("/studies/unsent/").status_code == 200
    assert browser.get("/healthz").json()["sandbox"] == "on"

    # Malformed request lines are logged by the server itself.
    _raw_request(server.port, f"GET /?q=Zebulonix {LAST_NAME} HTTP/1.1".encode())
    _raw_request(server.port, f"GET /studies/by-uid/{UID_MISSING}/ HTTP/1.1 {EMAIL}".encode())

    logout = browser.get("/?filters=none")
    assert browser.post("/logout/", {}, logout.text).status_code == 302
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["production", "local"])
def test_no_identifier_reaches_any_log_line(
    script_server: Callable[[str], ScriptServer], mode: str
) -> None:
    server = script_server(mode)
    server.manage("migrate", "--noinput", "-v0")
    ids = tuple(server.manage("shell", "-v0", "-c", SETUP).split())
    assert len(ids) == 3
    server.start()
    browser = drive_every_page(server, ids)  # type: ignore[arg-type]
    server.stop()

    output = server.output()
    hits = [
        (identifier, line)
        for line in output.splitlines()
        for identifier in IDENTIFIERS
        if identifier.lower() in line.lower()
    ]
    assert hits == []
    # The logs are there and name what happened, as route templates.
    assert "/studies/by-uid/{study_instance_uid}/" in output
    assert "/studies/lookup/?uid" in output
    assert "Not Found: /studies/by-uid/{study_instance_uid}/" in output
    request_lines = re.findall(r'"(?:GET|POST|HEAD) /\S* HTTP/1\.[01]"', output)
    assert len(request_lines) >= browser.requests
