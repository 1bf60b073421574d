"""The study detail page and the look-up by Study Instance UID, against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone

from sandbox.auth import settings_key
from sandbox.factories import SandboxFactory
from tests.conftest import SandboxFaults
from tests.pages import html

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def full_study(sandbox_factory: SandboxFactory, sandbox_url: str) -> Any:
    assignee = sandbox_factory.user(
        first_name="Dana",
        middle_name="J.",
        last_name="Lee",
        suffix1="MD",
        suffix2="PhD",
        email="dana.lee@clinic.example",
    )
    customer = sandbox_factory.customer(name="Harbor Clinic")
    created = timezone.now() - timedelta(minutes=3)
    return sandbox_factory.study(
        study_description="CT Chest/Abdomen/Pelvis",
        severity="stat",
        study_viewer_status="complete",
        assigned_to=assignee,
        express_customer=customer,
        created_by_api_key=settings_key(),
        metadata={"ward": "ED", "referrer": "Dr. <Osei>"},
        created_at=created,
        updated_at=created + timedelta(minutes=1),
    )


def test_the_detail_page_shows_the_study_as_the_api_returns_it(
    coordinator_client: Client, full_study: Any
) -> None:
    response = coordinator_client.get(f"/studies/{full_study.study_id}/")
    assert response.status_code == 200
    page = html(response)
    assert "<h1>CT Chest/Abdomen/Pelvis</h1>" in page
    assert '<span class="badge badge--stat">STAT</span>' in page
    assert '<span class="badge badge--complete">Complete</span>' in page
    assert f'<code id="study-uid">{full_study.study_instance_uid}</code>' in page
    assert f'data-copy-text="{full_study.study_instance_uid}"' in page
    assert "Dana J. Lee, MD, PhD" in page
    assert "dana.lee@clinic.example" in page
    assert "Harbor Clinic" in page
    assert 'Viewer Admin <span class="muted">(API key)</span>' in page
    assert "3\xa0minutes ago" in page
    assert "2\xa0minutes ago" in page
    assert '<time datetime="' in page
    assert '<th scope="row">ward</th><td>ED</td>' in page
    assert "Dr. &lt;Osei&gt;" in page
    assert "Cancelled</dt>\n    <dd>No</dd>" in page


def test_a_cancelled_study_shows_when_it_was_cancelled(
    coordinator_client: Client, sandbox_factory: SandboxFactory, sandbox_url: str
) -> None:
    study = sandbox_factory.study(
        is_cancelled=True, cancelled_at=datetime(2025, 1, 30, 12, 51, tzinfo=UTC)
    )
    page = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    assert '<span class="badge badge--cancelled">Cancelled</span>' in page
    assert '<time datetime="2025-01-30T12:51:00+00:00">30 Jan 2025, 12:51</time>' in page
    assert "Unassigned" in page


def test_times_are_shown_in_the_configured_time_zone(
    coordinator_client: Client, sandbox_factory: SandboxFactory, sandbox_url: str, settings: Any
) -> None:
    settings.CLINIC_TIME_ZONE = "America/New_York"
    study = sandbox_factory.study(created_at=datetime(2025, 1, 30, 12, 51, tzinfo=UTC))
    page = html(coordinator_client.get(f"/studies/{study.study_id}/"))
    assert "30 Jan 2025, 07:51" in page
    assert page.count("America/New_York") == 1  # the zone is named once, at the foot


def test_observers_can_read_the_detail_page(observer_client: Client, full_study: Any) -> None:
    assert observer_client.get(f"/studies/{full_study.study_id}/").status_code == 200


def test_an_unknown_study_is_a_404_page_with_a_way_back(
    coordinator_client: Client, sandbox_url: str
) -> None:
    response = coordinator_client.get(f"/studies/stu_{'0' * 32}/")
    assert response.status_code == 404
    page = html(response)
    assert "Study not found" in page
    assert 'href="/">Back to the worklist</a>' in page


def test_a_malformed_study_id_is_a_404_without_asking_the_api(
    coordinator_client: Client, settings: Any
) -> None:
    settings.VIEWER_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens; must not be asked
    response = coordinator_client.get("/studies/not-a-study/")
    assert response.status_code == 404
    assert "Study not found" in html(response)


def test_an_unavailable_api_is_a_503_page_with_a_retry_link(
    coordinator_client: Client, full_study: Any, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path="/v1/viewer/studies", method="GET", count=3)
    path = f"/studies/{full_study.study_id}/"
    response = coordinator_client.get(path)
    assert response.status_code == 503
    page = html(response)
    assert 'role="alert"' in page
    assert f'href="{path}">Try again</a>' in page
    assert coordinator_client.get(path).status_code == 200


def test_by_uid_redirects_to_the_detail_page(coordinator_client: Client, full_study: Any) -> None:
    response = coordinator_client.get(f"/studies/by-uid/{full_study.study_instance_uid}/")
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{full_study.study_id}/"


@pytest.mark.parametrize(
    ("uid", "title"),
    [("1.2.3.4.5.6.7.8.9", "Study not found"), ("1.02", "Not a Study Instance UID")],
)
def test_by_uid_for_an_unknown_or_invalid_uid_is_a_404_page(
    coordinator_client: Client, sandbox_url: str, uid: str, title: str
) -> None:
    response = coordinator_client.get(f"/studies/by-uid/{uid}/")
    assert response.status_code == 404
    page = html(response)
    assert f"<h1>{title}</h1>" in page
    assert f"<code>{uid}</code>" in page


def test_an_unknown_page_uses_the_friendly_404(coordinator_client: Client) -> None:
    response = coordinator_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Back to the worklist" in html(response)


# --- Template tags -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("stat", '<span class="badge badge--stat">STAT</span>'),
        ("high", '<span class="badge badge--high">High</span>'),
        ("normal", '<span class="badge badge--normal">Normal</span>'),
        ("urgent<", '<span class="badge">urgent&lt;</span>'),
    ],
)
def test_severity_badge_has_text_and_colour(value: str, expected: str) -> None:
    template = Template("{% load studies_tags %}{% severity_badge value %}")
    assert template.render(Context({"value": value})) == expected


def test_timestamp_without_a_time() -> None:
    template = Template('{% load studies_tags %}{% timestamp value empty="Never" %}')
    assert template.render(Context({"value": None})) == '<span class="muted">Never</span>'
