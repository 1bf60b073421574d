"""Project middleware: an htmx request with an expired session goes to the sign-in page as a
whole page; the CSP lets "Open in Viewer" reach the Viewer's origin and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.test_foundation import PRODUCTION_ENV, run_manage
from viewer_admin.csp import content_security_policy, origin_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_an_expired_session_sends_htmx_to_sign_in_with_the_current_page(client: Client) -> None:
    response = client.get(
        "/",
        {"q": "ct"},
        HTTP_HX_CURRENT_URL="http://testserver/?severity=stat&q=c",
        HTTP_HX_TARGET="worklist-results",
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=/%3Fseverity%3Dstat%26q%3Dc"
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_post_with_an_expired_session_is_redirected_too(client: Client) -> None:
    response = client.post("/", {}, HTTP_HX_CURRENT_URL="http://testserver/studies/new/", **HTMX)
    assert response["HX-Redirect"] == "/login/?next=/studies/new/"


@pytest.mark.parametrize("current", ["", "https://elsewhere.example/phish/"])
def test_without_a_usable_current_page_next_is_the_request_itself(
    client: Client, current: str
) -> None:
    response = client.get("/studies/assignees/", {"q": "sm"}, HTTP_HX_CURRENT_URL=current, **HTMX)
    assert response["HX-Redirect"] == "/login/?next=/studies/assignees/%3Fq%3Dsm"


def test_plain_requests_and_other_redirects_are_left_alone(client: Client) -> None:
    plain = client.get("/studies/new/")
    assert plain.status_code == 302
    assert plain["Location"] == "/login/?next=/studies/new/"
    admin = client.get("/admin/", **HTMX)
    assert admin.status_code == 302
    assert admin["Location"].startswith("/admin/login/")
    assert "HX-Redirect" not in admin


def test_signed_in_htmx_requests_are_untouched(coordinator_client: Client) -> None:
    response = coordinator_client.get("/studies/lookup/", {"uid": "1.02"}, **HTMX)
    assert response.status_code == 404
    assert "HX-Redirect" not in response


# --- CSP -------------------------------------------------------------------------------------


def test_form_action_allows_only_our_origin_and_the_viewer_links() -> None:
    policy = content_security_policy(
        form_action=["https://viewer.example", "", "https://viewer.example"]
    )
    assert "form-action 'self' https://viewer.example;" in policy
    assert "script-src 'self';" in policy
    assert "form-action 'self';" in content_security_policy()
    assert origin_of("https://api.avarasoftware.com/v1/x") == "https://api.avarasoftware.com"
    assert origin_of("not a url") == ""


def test_production_policy_follows_the_api_origin_unless_told_otherwise() -> None:
    show = "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY)"
    default = run_manage("shell", "-c", show, **PRODUCTION_ENV)
    assert default.returncode == 0, default.stderr
    assert "form-action 'self' https://api.avarasoftware.com;" in default.stdout
    told = run_manage(
        "shell",
        "-c",
        show,
        VIEWER_LINK_ORIGINS="https://viewer.avarasoftware.com, https://eu.viewer.example",
        **PRODUCTION_ENV,
    )
    assert told.returncode == 0, told.stderr
    assert (
        "form-action 'self' https://viewer.avarasoftware.com https://eu.viewer.example;"
        in told.stdout
    )
