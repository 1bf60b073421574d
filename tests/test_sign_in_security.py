"""Sign-in fit for a hospital: lock-out after failed attempts (also across app instances),
the sign-in audit, password validators and the security headers."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import SignInEvent
from accounts.views import LOCKED_OUT_MESSAGE
from tests.conftest import PASSWORD
from tests.pages import html
from tests.test_foundation import run_manage

LOCKED_OUT = "Too many failed sign-in attempts"
TOKENS = re.compile(r'value="[^"]*"|"X-CSRFToken": "[^"]*"')


WRONG_PASSWORD = "wrong-password"


def attempt(client: Any, username: str, password: str = WRONG_PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_five_failures_for_a_username_lock_it_out_even_with_the_right_password(
    client: Any, coordinator: User
) -> None:
    for _ in range(4):
        response = attempt(client, "coordinator")
        assert response.status_code == 200
        assert "correct username and password" in html(response)
    fifth = attempt(client, "coordinator")
    assert fifth.status_code == 429
    assert LOCKED_OUT in html(fifth)
    right = attempt(client, "coordinator", PASSWORD)
    assert right.status_code == 429
    assert LOCKED_OUT in html(right)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_lock_out_message_is_the_same_whether_or_not_the_account_exists(
    client: Any, coordinator: User, settings: Any
) -> None:
    settings.AXES_LOCKOUT_PARAMETERS = ["username"]
    answers = {}
    for username in ("coordinator", "nobody-by-this-name"):
        for _ in range(5):
            response = attempt(client, username)
        answers[username] = TOKENS.sub("", html(response))
        assert response.status_code == 429
    expected = LOCKED_OUT_MESSAGE.format(minutes=15)
    assert expected in answers["coordinator"]
    assert answers["coordinator"].count(expected) == answers["nobody-by-this-name"].count(expected)
    # Apart from the typed username and tokens, the two pages are the same.
    strip = re.compile(r"coordinator|nobody-by-this-name")
    assert strip.sub("", answers["coordinator"]) == strip.sub("", answers["nobody-by-this-name"])


@pytest.mark.django_db
def test_five_failures_from_one_address_lock_out_that_address(
    client: Any, coordinator: User
) -> None:
    for index in range(5):
        attempt(client, f"guess-{index}")
    response = attempt(client, "coordinator", PASSWORD)
    assert response.status_code == 429
    # Another address can still sign in as the coordinator.
    other = client.post(
        reverse("login"),
        {"username": "coordinator", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.7",
    )
    assert other.status_code == 302


@pytest.mark.django_db
def test_the_lock_out_ends_after_the_configured_time(
    client: Any, coordinator: User, settings: Any
) -> None:
    for _ in range(5):
        attempt(client, "coordinator")
    assert attempt(client, "coordinator", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.first().attempt_time.replace(year=2000)
    )
    assert attempt(client, "coordinator", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_an_administrator_lifts_a_lock_out_in_django_admin(client: Any, coordinator: User) -> None:
    for _ in range(5):
        attempt(client, "coordinator")
    assert attempt(client, "coordinator", PASSWORD).status_code == 429
    admin = User.objects.create_superuser("admin", password=PASSWORD)
    admin_client = type(client)()
    admin_client.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "coordinator" in html(admin_client.get(changelist))
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert attempt(client, "coordinator", PASSWORD).status_code == 302


def test_limit_and_duration_come_from_the_environment() -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME * 60)",
        SIGN_IN_FAILURE_LIMIT="3",
        SIGN_IN_LOCKOUT_MINUTES="30",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["3", "30.0"]


def _sign_in_over_http(base_url: str, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        page = http.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None
        return http.post(
            "/login/",
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1),
            },
        )


@pytest.mark.django_db(transaction=True)
def test_failures_count_across_two_app_instances_on_one_database(
    app_instances: Any, coordinator: User
) -> None:
    first, second = app_instances(2)
    for instance in (first, second, first, second):
        response = _sign_in_over_http(instance.url, "coordinator", "wrong-password")
        assert response.status_code == 200
        assert "correct username and password" in response.text
    fifth = _sign_in_over_http(second.url, "coordinator", "wrong-password")
    assert fifth.status_code == 429
    for instance in (first, second):
        response = _sign_in_over_http(instance.url, "coordinator", PASSWORD)
        assert response.status_code == 429
        assert LOCKED_OUT in response.text
    assert AccessAttempt.objects.filter(username="coordinator").exists()


# --- Sign-in audit --------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_sign_out_failure_and_lock_out_are_audited_with_address(
    client: Any, coordinator: User
) -> None:
    assert attempt(client, "coordinator", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(5):
        attempt(client, "coordinator")
    kinds = list(SignInEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds[:2] == [SignInEvent.Kind.SIGN_IN, SignInEvent.Kind.SIGN_OUT]
    assert kinds[2:].count(SignInEvent.Kind.FAILED) == 5
    assert SignInEvent.Kind.LOCKED_OUT in kinds
    for event in SignInEvent.objects.all():
        assert event.username == "coordinator"
        assert event.user == coordinator
        assert event.ip_address == "127.0.0.1"
        assert event.at is not None
    assert SignInEvent.objects.get(kind=SignInEvent.Kind.SIGN_IN).method == "password"


@pytest.mark.django_db
def test_a_failure_for_an_unknown_username_is_audited_without_a_user(client: Any) -> None:
    attempt(client, "mallory")
    event = SignInEvent.objects.get()
    assert (event.kind, event.username, event.user) == (SignInEvent.Kind.FAILED, "mallory", None)


@pytest.mark.django_db
def test_the_sign_in_audit_is_read_only_and_filterable_in_admin(
    client: Any, coordinator: User
) -> None:
    attempt(client, "coordinator", PASSWORD)
    client.post(reverse("logout"))
    attempt(client, "mallory")
    admin = User.objects.create_superuser("admin", password=PASSWORD)
    client.force_login(admin)
    changelist = reverse("admin:accounts_signinevent_changelist")
    failed = html(client.get(changelist, {"kind__exact": "failed"}))
    assert "mallory" in failed
    assert 'field-kind">Failed sign-in' in failed
    assert 'field-kind">Signed in' not in failed
    assert "127.0.0.1" in failed
    assert client.get(reverse("admin:accounts_signinevent_add")).status_code == 403
    event = SignInEvent.objects.first()
    change = client.post(
        reverse("admin:accounts_signinevent_change", args=[event.pk]), {"username": "x"}
    )
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.username != "x"


# --- Passwords and headers ------------------------------------------------------------------


def test_password_validators_refuse_weak_passwords() -> None:
    for weak in ("password", "12345678", "short"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("a-long-and-unusual-passphrase-91")


@pytest.mark.django_db
def test_pages_send_permissions_referrer_and_opener_policies(
    client: Any, coordinator_client: Any
) -> None:
    for response in (client.get(reverse("login")), coordinator_client.get(reverse("home"))):
        assert "camera=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
