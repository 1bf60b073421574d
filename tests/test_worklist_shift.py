"""The worklist a coordinator keeps open all shift (issue 16), against the sandbox over HTTP:
urgent first, clinic time, who created a study, "created by me", remembered filters and the
quick-create panel, "Assigned to me", and the live worklist's check."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.idle import LAST_ACTIVITY_KEY
from sandbox.factories import SandboxFactory, random_uid
from sandbox.models import now_ms
from studies.models import WorklistPreference
from tests.conftest import SandboxFaults
from tests.fresh_settings import settings_output
from tests.pages import html, input_value

pytestmark = pytest.mark.django_db(transaction=True)


def descriptions(page: str) -> list[str]:
    return re.findall(r'class="worklist-desc"><a href="[^"]+">([^<]+)</a>', page)


def study_calls(faults: SandboxFaults) -> int:
    """Calls to the study list so far, counted by a persistent 0-second latency fault."""
    (counter,) = [f for f in faults.armed() if f["path"] == "/v1/viewer/studies"]
    return int(counter["applied"])


@pytest.fixture
def counted(sandbox_faults: SandboxFaults) -> SandboxFaults:
    sandbox_faults.arm(
        "latency", seconds=0, persistent=True, path="/v1/viewer/studies", method="GET"
    )
    return sandbox_faults


@pytest.fixture
def shift(sandbox_url: str, sandbox_factory: SandboxFactory) -> None:
    """Newest first: normal, high, cancelled STAT, complete STAT, normal, STAT (oldest)."""
    start = now_ms()
    for minutes, description, fields in [
        (1, "Normal newest", {}),
        (2, "High one", {"severity": "high"}),
        (3, "Cancelled STAT", {"severity": "stat", "is_cancelled": True}),
        (4, "Complete STAT", {"severity": "stat", "study_viewer_status": "complete"}),
        (5, "Normal older", {}),
        (6, "STAT oldest", {"severity": "stat"}),
    ]:
        sandbox_factory.study(
            study_description=description, created_at=start - timedelta(minutes=minutes), **fields
        )


# --- Urgent first -----------------------------------------------------------------------------


def test_urgent_first_is_the_default_and_says_so(
    coordinator_client: Client, shift: None, counted: SandboxFaults
) -> None:
    page = html(coordinator_client.get("/"))
    # Open STAT, then open high; then the rest, newest first (the urgent ones not repeated).
    assert descriptions(page) == [
        "STAT oldest",
        "High one",
        "Normal newest",
        "Complete STAT",
        "Normal older",
    ]
    assert "Urgent first (the default)" in page
    assert 'aria-current="true"' in page.split("Urgent first</a>")[0].rsplit("<a", 1)[1]
    # Severity as text plus colour.
    assert '<span class="badge badge--stat">STAT</span>' in page
    assert '<span class="badge badge--high">High</span>' in page
    assert study_calls(counted) == 2  # the list, and one call for the urgent ones


def test_newest_first_is_one_call_in_the_api_order(
    coordinator_client: Client, shift: None, counted: SandboxFaults
) -> None:
    page = html(coordinator_client.get("/?order=newest"))
    assert descriptions(page) == [
        "Normal newest",
        "High one",
        "Complete STAT",
        "Normal older",
        "STAT oldest",
    ]
    assert "Newest first." in page
    assert study_calls(counted) == 1


def test_urgent_first_makes_one_extra_call_whatever_the_row_count(
    coordinator_client: Client, sandbox_url: str, sandbox_factory: SandboxFactory
) -> None:
    for number in range(30):
        sandbox_factory.study(
            study_description=f"Study {number}", severity=("stat", "high", "normal")[number % 3]
        )
    faults = SandboxFaults(sandbox_url)
    faults.arm("latency", seconds=0, persistent=True, path="/v1/viewer/studies", method="GET")
    page = html(coordinator_client.get("/"))
    assert page.count('<tr class="worklist-row') == 30
    assert study_calls(faults) == 2
    faults.clear()


def test_a_severity_filter_needs_no_urgent_call(
    coordinator_client: Client, shift: None, counted: SandboxFaults
) -> None:
    page = html(coordinator_client.get("/?severity=stat"))
    assert descriptions(page) == ["Complete STAT", "STAT oldest"]
    assert "does not apply to these filters" in page
    assert study_calls(counted) == 1


# --- Clinic time ------------------------------------------------------------------------------


def test_times_are_in_the_clinic_time_zone_named_once(
    coordinator_client: Client, sandbox_url: str, sandbox_factory: SandboxFactory, settings: Any
) -> None:
    settings.CLINIC_TIME_ZONE = "Asia/Tokyo"
    sandbox_factory.study(created_at=datetime(2025, 1, 30, 12, 51, tzinfo=UTC))
    page = html(coordinator_client.get("/"))
    assert 'title="30 Jan 2025, 21:51"' in page  # 12:51 UTC is 21:51 in Tokyo
    assert page.count("Asia/Tokyo") == 1
    assert " ago</time>" in page  # the relative time stays


def test_clinic_time_zone_defaults_to_time_zone_and_must_exist() -> None:
    read = "settings.CLINIC_TIME_ZONE"
    cleared = ["CLINIC_TIME_ZONE"]
    assert settings_output(read, cleared=cleared, TIME_ZONE="Europe/Zurich") == "Europe/Zurich"
    assert settings_output(read, TIME_ZONE="UTC", CLINIC_TIME_ZONE="Asia/Tokyo") == "Asia/Tokyo"
    error = settings_output(read, check=False, CLINIC_TIME_ZONE="Mars/Olympus")
    assert "CLINIC_TIME_ZONE='Mars/Olympus' is not a known time zone." in error


# --- Who created it ---------------------------------------------------------------------------


def quick_create(client: Client, description: str) -> str:
    """Create a study through the worklist's quick-create; returns its UID."""
    token = input_value(html(client.get("/?order=newest")), "quick-token")
    uid = random_uid()
    response = client.post(
        "/",
        {
            "quick-token": token,
            "quick-severity": "normal",
            "quick-study_description": description,
            "quick-study_instance_uid": uid,
            "action": "create",
        },
    )
    assert response.status_code == 302, html(response)
    return uid


def test_the_detail_page_names_the_coordinator_who_created_it(
    coordinator_client: Client, coordinator: User, sandbox_url: str
) -> None:
    coordinator.first_name, coordinator.last_name = "Casey", "Moreno"
    coordinator.save()
    uid = quick_create(coordinator_client, "Made here")
    page = html(coordinator_client.get(f"/studies/by-uid/{uid}/", follow=True))
    created_by = page.split("<dt>Created by</dt>")[1].split("</dd>")[0]
    assert "Casey Moreno" in created_by
    assert "(coordinator, in Viewer Admin)" in created_by
    assert "through the API key" in created_by


def test_created_by_me_shows_only_the_studies_i_created(
    coordinator_client: Client,
    sandbox_url: str,
    sandbox_factory: SandboxFactory,
) -> None:
    sandbox_factory.study(study_description="Someone else's")
    quick_create(coordinator_client, "Mine")
    page = html(coordinator_client.get("/?created_by=me&order=newest"))
    assert descriptions(page) == ["Mine"]
    assert "Created by me" in page
    assert "Download CSV" not in page  # the export has the API's filters only
    # The filter is behind "More filters", which is open because it is set.
    assert '<details class="filters__more" open>' in page
    assert '<details class="filters__more">' in html(coordinator_client.get("/?order=newest"))


# --- Remembered filters, the quick-create panel, Assigned to me ------------------------------


def test_filters_come_back_on_the_next_visit_until_reset(
    client: Client, coordinator: User, observer: User, sandbox_url: str
) -> None:
    client.force_login(coordinator)
    assert client.get("/?severity=stat&order=newest").status_code == 200
    stored = WorklistPreference.objects.get(user=coordinator)
    assert stored.filters == "severity=stat&order=newest"

    client.logout()
    client.force_login(coordinator)  # a new session: the filters come from the database
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/?severity=stat&order=newest"

    page = html(client.get("/?filters=none"))  # "Reset filters"
    assert 'href="/?filters=none"' in page
    assert client.get("/").status_code == 200
    assert WorklistPreference.objects.get(user=coordinator).filters == ""

    client.force_login(observer)  # per person: the observer has none
    assert client.get("/").status_code == 200


def test_the_quick_create_panel_stays_as_it_was_left(
    coordinator_client: Client, sandbox_url: str
) -> None:
    panel = re.compile(r"<details class=\"quick-create__panel\"[^>]*>")
    assert " open" not in panel.search(html(coordinator_client.get("/")))[0]  # folded at first
    assert coordinator_client.post("/worklist/panel/", {"open": "1"}).status_code == 204
    assert " open" in panel.search(html(coordinator_client.get("/")))[0]
    assert coordinator_client.post("/worklist/panel/", {"open": "0"}).status_code == 204
    assert " open" not in panel.search(html(coordinator_client.get("/")))[0]


def test_assigned_to_me_when_my_email_is_a_viewer_user(
    coordinator_client: Client,
    coordinator: User,
    sandbox_url: str,
    sandbox_factory: SandboxFactory,
) -> None:
    me = sandbox_factory.user(first_name="Casey", last_name="Moreno", email="casey@clinic.example")
    other = sandbox_factory.user(first_name="Ann", last_name="Lee")
    sandbox_factory.study(study_description="For me", assigned_to=me)
    sandbox_factory.study(study_description="For Ann", assigned_to=other)
    assert "Assigned to me" not in html(coordinator_client.get("/"))  # no email yet

    coordinator.email = "casey@clinic.example"
    coordinator.save()
    coordinator_client.force_login(coordinator)
    page = html(coordinator_client.get("/"))
    link = re.search(r'<a class="chip" href="([^"]+)"[^>]*>Assigned to me', page)
    assert link, "no Assigned to me chip"
    assert me.user_id in link[1]
    mine = html(coordinator_client.get(link[1].replace("&amp;", "&")))
    assert descriptions(mine) == ["For me"]


# --- The live worklist's check ----------------------------------------------------------------


def test_the_live_check_is_one_call_answering_ids_and_versions(
    coordinator_client: Client, sandbox_factory: SandboxFactory, counted: SandboxFaults
) -> None:
    study = sandbox_factory.study(study_description="Watched", severity="stat")
    page = html(coordinator_client.get("/"))
    url = re.search(r'data-live-url="([^"]+)"', page)[1].replace("&amp;", "&")
    version = re.search(rf'data-study-id="{study.study_id}" data-version="([^"]+)"', page)[1]
    before = study_calls(counted)

    response = coordinator_client.get(url, HTTP_X_BACKGROUND="true")
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"studies": [[study.study_id, version]]}
    assert study_calls(counted) == before + 1
    assert "Watched" not in response.content.decode()  # no list is rendered


def test_the_live_check_never_keeps_the_session_alive(
    coordinator_client: Client, sandbox_url: str
) -> None:
    session = coordinator_client.session
    last = time.time() - 120  # two minutes ago: not logged off yet
    session[LAST_ACTIVITY_KEY] = last
    session.save()
    response = coordinator_client.get("/worklist/changes/", HTTP_X_BACKGROUND="true")
    assert response.status_code == 200
    assert coordinator_client.session[LAST_ACTIVITY_KEY] == last
