"""The create-study form's views, against the sandbox over real HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxStudy
from studies.models import Submission
from tests.conftest import SandboxFaults
from tests.form_data import create_form_data, metadata_data
from tests.pages import html, input_value

pytestmark = pytest.mark.django_db(transaction=True)


def form_post(**overrides: str) -> dict[str, str]:
    return create_form_data(
        **{"severity": "high", "study_description": "MRI Brain with Contrast", **overrides}
    )


def with_rows(data: dict[str, str], rows: list[tuple[str, str]]) -> dict[str, str]:
    kept = {k: v for k, v in data.items() if not k.startswith("metadata-")}
    return {**kept, **metadata_data(rows)}


@pytest.fixture
def smith(sandbox_factory: SandboxFactory) -> Any:
    return sandbox_factory.user(
        first_name="John",
        middle_name="R.",
        last_name="Smith",
        suffix1="MD",
        email="john.smith@clinic.example",
        clinic_role="Radiologist",
    )


# --- Showing the form --------------------------------------------------------------------


def test_the_form_lists_active_customers_only(
    sandbox_url: str, coordinator_client: Client, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.customer(name="Harbor Clinic")
    sandbox_factory.customer(name="Closed Clinic", is_active=False)
    response = coordinator_client.get("/studies/new/")
    assert response.status_code == 200
    page = html(response)
    for label in ("Severity", "Study description", "Study Instance UID", "Assignee"):
        assert f">{label}</label>" in page
    assert ">Express customer</label>" in page
    assert "Harbor Clinic" in page
    assert "Closed Clinic" not in page
    assert '<option value="" selected>No customer</option>' in page
    assert '<option value="normal" selected>Normal</option>' in page
    assert 'name="token"' in page
    assert "1</span> / 50" in page


def test_the_form_works_when_the_customer_list_cannot_be_loaded(
    sandbox_url: str, coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path="/v1/express", count=10)
    response = coordinator_client.get("/studies/new/")
    assert response.status_code == 200
    assert "The customer list could not be loaded" in html(response)


def test_the_nav_offers_new_study_to_coordinators_only(
    sandbox_url: str, client: Client, coordinator: User, observer: User
) -> None:
    client.force_login(coordinator)
    assert 'href="/studies/new/"' in html(client.get("/studies/new/"))
    client.force_login(observer)
    assert 'href="/studies/new/"' not in html(client.get("/login/", follow=True))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/studies/new/"),
        ("post", "/studies/new/"),
    ],
)
def test_observers_get_403(observer_client: Client, method: str, path: str) -> None:
    response = getattr(observer_client, method)(path, form_post() if method == "post" else None)
    assert response.status_code == 403
    assert "Not allowed" in html(response)
    assert Submission.objects.count() == 0


# --- Creating ----------------------------------------------------------------------------


def test_a_complete_form_creates_the_study_and_redirects_to_it(
    sandbox_url: str,
    coordinator_client: Client,
    coordinator: User,
    sandbox_factory: SandboxFactory,
    smith: Any,
) -> None:
    customer = sandbox_factory.customer(name="Harbor Clinic")
    data = with_rows(
        form_post(
            severity="stat",
            assigned_to=smith.user_id,
            express_customer_id=customer.customer_id,
        ),
        [("ward", "ED"), ("", ""), ("referrer", "Dr. Osei"), ("bed", "4")],
    )
    response = coordinator_client.post("/studies/new/", data)
    study = SandboxStudy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.study_id}/"
    assert study.severity == "stat"
    assert study.study_instance_uid == data["study_instance_uid"]
    assert study.metadata == {"ward": "ED", "referrer": "Dr. Osei", "bed": "4"}
    assert study.assigned_to_id == smith.user_id
    assert study.express_customer_id == customer.customer_id
    attempt = Submission.objects.get()
    assert (attempt.status, attempt.study_id, attempt.created_by) == (
        Submission.Status.CREATED,
        study.study_id,
        coordinator,
    )

    detail = coordinator_client.get(response["Location"])
    page = html(detail)
    assert "Study created: MRI Brain with Contrast, assigned to John R. Smith, MD." in page
    assert "John R. Smith, MD" in page
    assert "Harbor Clinic" in page


def test_submitting_the_same_form_again_leads_to_the_same_study(
    sandbox_url: str, coordinator_client: Client
) -> None:
    data = form_post()
    first = coordinator_client.post("/studies/new/", data)
    second = coordinator_client.post("/studies/new/", data)
    assert SandboxStudy.objects.count() == 1
    assert second.status_code == 302
    assert second["Location"] == first["Location"]
    followed = coordinator_client.get(second["Location"])
    assert "already been sent" in html(followed)


def test_an_invalid_uid_is_shown_at_the_field_with_everything_kept(
    sandbox_url: str, coordinator_client: Client
) -> None:
    data = with_rows(
        form_post(study_instance_uid="1.2.03", severity="stat"),
        [("ward", "ED"), ("bed", "4")],
    )
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert 'id="id_study_instance_uid_error"' in page
    assert "Component 3 (03) starts with a zero" in page
    assert 'aria-invalid="true"' in page
    assert input_value(page, "study_instance_uid") == "1.2.03"
    assert input_value(page, "study_description") == "MRI Brain with Contrast"
    assert input_value(page, "metadata-1-value") == "4"
    assert '<option value="stat" selected>STAT</option>' in page
    assert input_value(page, "token") == data["token"]
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.count() == 0


def test_a_field_the_api_rejects_comes_back_at_that_field(
    sandbox_url: str, coordinator_client: Client, sandbox_factory: SandboxFactory
) -> None:
    revoked = sandbox_factory.user(first_name="Rita", last_name="Revoked", is_revoked=True)
    data = with_rows(form_post(assigned_to=revoked.user_id), [("ward", "ED")])
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert 'id="id_assigned_to_error"' in page
    assert "Rita Revoked" in page  # the chosen assignee is still shown, checked
    assert input_value(page, "metadata-0-key") == "ward"
    assert SandboxStudy.objects.count() == 0
    assert Submission.objects.get().status == Submission.Status.REJECTED


def test_a_duplicate_uid_links_to_the_existing_study(
    sandbox_url: str, coordinator_client: Client, sandbox_factory: SandboxFactory
) -> None:
    existing = sandbox_factory.study(study_description="Existing CT")
    data = form_post(study_instance_uid=existing.study_instance_uid)
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert "A study with this Study Instance UID already exists." in page
    assert f'href="/studies/{existing.study_id}/"' in page
    assert SandboxStudy.objects.count() == 1


@pytest.mark.parametrize(
    ("fault", "options", "words"),
    [
        ("status", {"status": 503}, "not responding"),
        ("rate_limit", {"retry_after": 1}, "too many requests"),
    ],
)
def test_an_unusable_api_keeps_every_input_and_saves_the_attempt(
    sandbox_url: str,
    coordinator_client: Client,
    coordinator: User,
    sandbox_faults: SandboxFaults,
    fault: str,
    options: dict[str, Any],
    words: str,
) -> None:
    sandbox_faults.arm(fault, path="/v1/viewer/studies", method="POST", count=5, **options)
    data = with_rows(form_post(severity="stat"), [("ward", "ED"), ("bed", "4")])
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert 'role="alert"' in page
    assert "The study was not created." in page
    assert words in page
    assert input_value(page, "study_instance_uid") == data["study_instance_uid"]
    assert input_value(page, "metadata-1-key") == "bed"
    assert input_value(page, "token") == data["token"]
    attempt = Submission.objects.get()
    assert attempt.status == Submission.Status.UNSENT
    assert attempt.created_by == coordinator
    assert attempt.payload["metadata"] == {"ward": "ED", "bed": "4"}
    assert SandboxStudy.objects.count() == 0

    sandbox_faults.clear()
    retried = coordinator_client.post("/studies/new/", data)
    assert retried.status_code == 302
    assert SandboxStudy.objects.count() == 1
    attempt.refresh_from_db()
    assert attempt.status == Submission.Status.CREATED


def test_a_misconfigured_key_is_a_banner_not_a_500(
    sandbox_url: str, coordinator_client: Client, settings: Any, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.api_key("key-without-viewer", is_viewer_enabled=False)
    settings.VIEWER_API_KEY = "key-without-viewer"
    response = coordinator_client.post("/studies/new/", form_post())
    assert response.status_code == 200
    page = html(response)
    assert 'role="alert"' in page
    assert "API key" in page
    assert Submission.objects.get().status == Submission.Status.UNSENT


def test_an_answer_lost_after_the_study_was_made_still_leads_to_it(
    sandbox_url: str, coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("commit_then_fail", path="/v1/viewer/studies", method="POST")
    response = coordinator_client.post("/studies/new/", form_post())
    study = SandboxStudy.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/studies/{study.study_id}/"


@pytest.mark.parametrize("total", ["51", "5000"])
def test_a_forged_row_count_is_a_clear_error(
    sandbox_url: str, coordinator_client: Client, total: str
) -> None:
    data = with_rows(form_post(), [(f"k{i}", "v") for i in range(51)])
    data["metadata-TOTAL_FORMS"] = total
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert "At most 50 metadata pairs are allowed." in page
    assert page.count("data-formset-row>") == 50 + 1  # 50 rows and the template row
    assert SandboxStudy.objects.count() == 0


# --- The no-JavaScript buttons -----------------------------------------------------------


def test_add_row_re_renders_with_one_more_row_and_no_errors(
    sandbox_url: str, coordinator_client: Client
) -> None:
    data = with_rows(form_post(study_description=""), [("ward", "ED")])
    data["action"] = "add_row"
    response = coordinator_client.post("/studies/new/", data)
    assert response.status_code == 200
    page = html(response)
    assert input_value(page, "metadata-0-key") == "ward"
    assert input_value(page, "metadata-1-key") == ""
    assert input_value(page, "metadata-TOTAL_FORMS") == "2"
    assert "errorlist" not in page
    assert input_value(page, "token") == data["token"]
    assert Submission.objects.count() == 0


def test_add_row_disappears_at_fifty_rows(sandbox_url: str, coordinator_client: Client) -> None:
    data = with_rows(form_post(), [(f"k{i}", "v") for i in range(49)])
    data["action"] = "add_row"
    page = html(coordinator_client.post("/studies/new/", data))
    assert input_value(page, "metadata-TOTAL_FORMS") == "50"
    assert "data-formset-add hidden" in page
    assert "50</span> / 50" in page


def test_search_button_shows_matches_as_choices_keeping_the_rest(
    sandbox_url: str, coordinator_client: Client, smith: Any
) -> None:
    data = with_rows(form_post(assignee_query="Smith"), [("ward", "ED")])
    data["action"] = "search_assignee"
    response = coordinator_client.post("/studies/new/", data)
    page = html(response)
    assert f'type="radio" name="assigned_to" value="{smith.user_id}"' in page
    assert "John R. Smith, MD" in page
    assert "Radiologist · john.smith@clinic.example" in page
    assert input_value(page, "metadata-0-value") == "ED"
    assert input_value(page, "study_instance_uid") == data["study_instance_uid"]
    assert "errorlist" not in page


# --- The type-ahead endpoint -------------------------------------------------------------


def test_assignee_search_returns_a_fragment_of_at_most_ten_users(
    sandbox_url: str, coordinator_client: Client, sandbox_factory: SandboxFactory
) -> None:
    for index in range(15):
        sandbox_factory.user(first_name=f"Ann{index}", last_name="Lindqvist")
    response = coordinator_client.get(
        "/studies/assignees/", {"assignee_query": "lindqvist"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page
    assert page.count('type="radio"') == 10 + 1  # ten matches and "Nobody"
    assert 'name="assigned_to"' in page


def test_assignee_search_keeps_the_chosen_user_and_the_form_prefix(
    sandbox_url: str, coordinator_client: Client, smith: Any, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.user(first_name="Olivia", last_name="Osei", email="osei@clinic.example")
    response = coordinator_client.get(
        "/studies/assignees/",
        {"prefix": "quick", "quick-assignee_query": "osei", "quick-assigned_to": smith.user_id},
    )
    page = html(response)
    assert f'name="quick-assigned_to" value="{smith.user_id}" checked' in page
    assert "Olivia Osei" in page
    assert "John R. Smith, MD" in page


def test_assignee_search_with_no_match_says_so(
    sandbox_url: str, coordinator_client: Client
) -> None:
    page = html(coordinator_client.get("/studies/assignees/", {"q": "zzz"}))
    assert "No user matches “zzz”." in page


def test_assignee_search_when_the_api_is_down_says_so(
    sandbox_url: str, coordinator_client: Client, sandbox_faults: SandboxFaults
) -> None:
    sandbox_faults.arm("status", status=503, path="/v1/viewer/users", count=10)
    response = coordinator_client.get("/studies/assignees/", {"q": "lee"})
    assert response.status_code == 200
    assert "Users could not be searched" in html(response)


def test_more_options_prefills_the_form_from_the_query_string(
    sandbox_url: str, coordinator_client: Client
) -> None:
    token = str(uuid.uuid4())
    page = html(
        coordinator_client.get(
            "/studies/new/",
            {
                "severity": "stat",
                "study_description": "CT",
                "study_instance_uid": "1.2",
                "token": token,
            },
        )
    )
    assert '<option value="stat" selected>STAT</option>' in page
    assert input_value(page, "study_instance_uid") == "1.2"
    assert input_value(page, "token") == token
