"""Privacy rules that need no live server: no-store on every page, the redaction of request
lines in log records, and the sandbox's transport rule in production."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from django.test import Client, RequestFactory

from sandbox.factories import SandboxFactory
from viewer_admin.log_redaction import RedactIdentifiers, redact_request_line, redact_target

pytestmark = pytest.mark.django_db


# --- Cache-Control ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/studies/new/",
        "/studies/unsent/",
        "/studies/lookup/?uid=1.2.3",
        "/studies/by-uid/1.2.3/",
        "/studies/stu_0123/",
        "/studies/assignees/?q=Lee",
        "/admin/",
        "/no-such-page/",
    ],
)
def test_every_signed_in_page_is_no_store(
    coordinator_client: Client, settings: Any, path: str
) -> None:
    settings.VIEWER_API_BASE_URL = "http://127.0.0.1:9/unreachable"  # answers fast, with errors
    response = coordinator_client.get(path)
    assert "no-store" in response["Cache-Control"], (path, response.status_code)


def test_the_sign_in_page_and_the_redirect_to_it_are_no_store(client: Client) -> None:
    assert "no-store" in client.get("/login/")["Cache-Control"]
    assert "no-store" in client.get("/studies/new/")["Cache-Control"]


def test_static_files_keep_their_cache_lifetime(client: Client) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- Log redaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/studies/by-uid/1.2.840.99999.777.1/", "/studies/by-uid/{study_instance_uid}/"),
        ("/studies/lookup/?uid=1.2.840.1", "/studies/lookup/?uid"),
        ("/?q=PatientSmith&assignee_query=x%40y.example&q=2", "/?q&assignee_query"),
        ("/studies/stu_0123/edit/", "/studies/{study_id}/edit/"),
        ("/sandbox/v1/viewer/users?lastName=Haddad", "/sandbox/v1/viewer/users?lastName"),
        ("/sandbox/v1/viewer/users/reactivate/Haddad", "/sandbox/v1/viewer/users/{path}"),
        ("/Haddad/", "/{unmatched}"),
        ("/static/css/app.css?v=1", "/static/{path}?v"),
        ("/?1.2.840.1=x", "/?{key}"),
        ("https://viewer.example/?q=Smith", "https://viewer.example/?q"),
        ("-", "-"),
    ],
)
def test_redact_target(target: str, logged: str) -> None:
    assert redact_target(target) == logged


def test_redact_request_line_with_spaces_in_the_target() -> None:
    assert redact_request_line("GET /?q=Ann Smith HTTP/1.1") == "GET /?q HTTP/1.1"


def _message(name: str, msg: str, *args: Any, **extra: Any) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    RedactIdentifiers().filter(record)
    return record.getMessage()


def test_django_request_not_found_logs_the_route() -> None:
    request = RequestFactory().get("/studies/by-uid/1.2.840.99999.777.1/?next=/x")
    message = _message("django.request", "Not Found: %s", request.path, request=request)
    assert message == "Not Found: /studies/by-uid/{study_instance_uid}/"


def test_runserver_request_line() -> None:
    message = _message("django.server", '"%s" %s %s', "GET /?q=Haddad HTTP/1.1", "200", "9")
    assert message == '"GET /?q HTTP/1.1" 200 9'


def test_gunicorn_error_lines() -> None:
    error = _message("gunicorn.error", "Error handling request %s %s", "GET", "/?q=Haddad")
    assert error == "Error handling request GET /?q"
    invalid = _message(
        "gunicorn.error", "Invalid request from ip=1.2.3.4: Invalid HTTP Version: 'Haddad HTTP/1.1'"
    )
    assert invalid == "Invalid request from ip=1.2.3.4: Invalid HTTP Version: '{withheld}'"


def test_uid_and_email_like_text_is_replaced_anywhere() -> None:
    message = _message("studies", "saw %s for %s at 10.0.0.1", "1.2.840.5.6", "ann@clinic.example")
    assert message == "saw {uid} for {email} at 10.0.0.1"


def test_tracebacks_get_the_last_resort_rule() -> None:
    try:
        raise ValueError("no study 1.2.840.5.6.7 for ann@clinic.example")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    RedactIdentifiers().filter(record)
    text = logging.Formatter().format(record)
    assert "ValueError: no study {uid} for {email}" in text
    assert "1.2.840" not in text


def test_the_app_log_lines_with_templates_are_left_alone() -> None:
    line = "viewer_api GET /v1/viewer/studies/by-uid/{studyInstanceUid} status=200"
    assert _message("studies.viewer_api", line) == line


# --- The sandbox in production ---------------------------------------------------------------


@pytest.fixture
def production_sandbox(settings: Any) -> Any:
    settings.PRODUCTION = True
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_ALLOW_INSECURE = False
    SandboxFactory()  # the key's row
    return settings


AUTH = {"HTTP_AUTHORIZATION": "Bearer sandbox-demo-key"}
STUDIES = "/sandbox/v1/viewer/studies"


def test_production_sandbox_refuses_plain_http_from_elsewhere(
    client: Client, production_sandbox: Any
) -> None:
    response = client.get(STUDIES, REMOTE_ADDR="192.0.2.7", **AUTH)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert "SANDBOX_ALLOW_INSECURE" in response.json()["error"]["message"]
    forwarded = client.get(STUDIES, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.7")
    assert forwarded.status_code == 403


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"REMOTE_ADDR": "127.0.0.1"},
        {"REMOTE_ADDR": "::1"},
        {"REMOTE_ADDR": "192.0.2.7", "secure": True},
    ],
)
def test_production_sandbox_answers_loopback_and_https(
    client: Client, production_sandbox: Any, request_kwargs: dict[str, Any]
) -> None:
    assert client.get(STUDIES, **request_kwargs, **AUTH).status_code == 200


def test_production_sandbox_plain_http_when_explicitly_allowed(
    client: Client, production_sandbox: Any
) -> None:
    production_sandbox.SANDBOX_ALLOW_INSECURE = True
    assert client.get(STUDIES, REMOTE_ADDR="192.0.2.7", **AUTH).status_code == 200


def test_locally_the_sandbox_answers_anyone(client: Client, settings: Any) -> None:
    SandboxFactory()
    assert client.get(STUDIES, REMOTE_ADDR="192.0.2.7", **AUTH).status_code == 200


def test_healthz_says_the_sandbox_is_on(client: Client, settings: Any) -> None:
    settings.VIEWER_API_BASE_URL = "http://127.0.0.1:9/unreachable"
    assert client.get("/healthz").json()["sandbox"] == "on"
    settings.SANDBOX_ENABLED = False
    assert client.get("/healthz").json()["sandbox"] == "off"
