"""The worklist view: filters reach the API as the contract's query parameters, one studies
call per render, cursor paging, the empty state, and an API outage that still renders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from studies import viewer_api
from tests.viewer_api_fake import (
    CUSTOMER_ID,
    USER_ID,
    FakeAPI,
    customer_json,
    customer_ref_json,
    error,
    user_json,
    user_ref_json,
)
from tests.viewer_api_fake import study_json as shared_study_json

INACTIVE_CUSTOMER_ID = "cus_" + "d" * 32
JOHN = user_ref_json(first="John", last="Smith", middleName="R.", suffix1="MD")


def study_json(number: int, **overrides: Any) -> dict[str, Any]:
    """Row `number` of a worklist: unassigned, no customer, no metadata."""
    row = {
        "studyId": f"stu_{number:032x}",
        "studyInstanceUid": f"1.2.840.113619.2.55.3.604688119.868.{1000 + number}",
        "studyDescription": f"CT Head {number}",
        "severity": "normal",
        "assignedTo": None,
        "metadata": {},
    }
    return shared_study_json(**{**row, **overrides})


@pytest.fixture
def api(db: None, fake_api: FakeAPI) -> FakeAPI:
    """The fake API with an empty worklist, two customers (one inactive) and one user."""
    fake_api.studies = []
    fake_api.customers = [
        customer_json(CUSTOMER_ID, name="Lakeside Imaging"),
        customer_json(INACTIVE_CUSTOMER_ID, name="Old Town Clinic", active=False),
    ]
    fake_api.users = [user_json(USER_ID, "John", "Smith", middleName="R.", suffix1="MD")]
    return fake_api


def study_queries(api: FakeAPI) -> list[dict[str, str]]:
    return api.queries("/v1/viewer/studies")


@pytest.fixture
def get(coordinator_client: Any) -> Callable[..., Any]:
    def _get(query: str = "", **headers: str) -> Any:
        return coordinator_client.get(reverse("home") + query, **headers)

    return _get


# --- Filters reach the API ---------------------------------------------------------------------


def test_default_is_active_studies_fifty_per_page(api: FakeAPI, get: Callable[..., Any]) -> None:
    response = get()
    assert response.status_code == 200
    assert study_queries(api)[0] == {"isCancelled": "false", "limit": "50"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?severity=stat", {"severity": "stat"}),
        ("?severity=high", {"severity": "high"}),
        ("?status=complete", {"studyViewerStatus": "complete"}),
        ("?status=incomplete", {"studyViewerStatus": "incomplete"}),
        ("?cancelled=cancelled", {"isCancelled": "true"}),
        ("?cancelled=active", {"isCancelled": "false"}),
        ("?assigned_to=unassigned", {"assignedTo": "null"}),
        (f"?assigned_to={USER_ID}", {"assignedTo": USER_ID}),
        ("?customer=none", {"expressCustomerId": "null"}),
        (f"?customer={CUSTOMER_ID}", {"expressCustomerId": CUSTOMER_ID}),
        ("?q=CT+Head", {"studyDescription": "CT Head"}),
        ("?q=++brain+++mri+", {"studyDescription": "brain mri"}),
    ],
)
def test_each_filter_reaches_the_api_as_the_contract_parameter(
    api: FakeAPI, get: Callable[..., Any], query: str, expected: dict[str, str]
) -> None:
    assert get(query).status_code == 200
    sent = study_queries(api)[0]  # the list; urgent first adds one call
    assert sent == {"isCancelled": "false", "limit": "50", **expected}


def test_cancelled_all_sends_no_cancelled_filter(api: FakeAPI, get: Callable[..., Any]) -> None:
    get("?cancelled=all")
    assert study_queries(api)[0] == {"limit": "50"}


def test_all_filters_together(api: FakeAPI, get: Callable[..., Any]) -> None:
    get(
        "?severity=stat&status=incomplete&cancelled=all&assigned_to=unassigned"
        f"&customer={CUSTOMER_ID}&q=chest"
    )
    assert study_queries(api) == [
        {
            "severity": "stat",
            "studyViewerStatus": "incomplete",
            "assignedTo": "null",
            "expressCustomerId": CUSTOMER_ID,
            "studyDescription": "chest",
            "limit": "50",
        }
    ]


@pytest.mark.parametrize(
    "query",
    [
        "?severity=urgent",
        "?status=done",
        "?cancelled=maybe",
        "?assigned_to=bob",
        "?customer=cus_nope",
        "?cursor=%3Cscript%3E",
        "?q=" + "x" * 300,
    ],
)
def test_invalid_values_are_dropped_not_sent(
    api: FakeAPI, get: Callable[..., Any], query: str
) -> None:
    response = get(query)
    assert response.status_code == 200
    sent = study_queries(api)[0]  # the list; urgent first adds one call
    assert sent == {"isCancelled": "false", "limit": "50"}


def test_filters_show_in_the_form_and_the_address(api: FakeAPI, get: Callable[..., Any]) -> None:
    response = get(f"?severity=stat&customer={CUSTOMER_ID}&q=head")
    html = response.content.decode()
    assert '<option value="stat" selected>STAT</option>' in html
    assert f'<option value="{CUSTOMER_ID}" selected>Lakeside Imaging</option>' in html
    assert f'<option value="{INACTIVE_CUSTOMER_ID}">Old Town Clinic (inactive)</option>' in html
    assert '<option value="none">No customer</option>' in html
    assert 'value="head"' in html


# --- One studies call per render; names from the study objects --------------------------------


def test_one_studies_call_and_no_call_per_row(api: FakeAPI, get: Callable[..., Any]) -> None:
    assignee = user_ref_json(first="Ann", last="Lee")
    customer = customer_ref_json(name="Lakeside Imaging")
    api.studies = [
        study_json(n, assignedTo=assignee, expressCustomer=customer) for n in range(1, 31)
    ]
    response = get()
    paths = [api.path(r) for r in api.requests]
    assert paths.count("/v1/viewer/studies") == 2  # the list, and urgent first's one call
    assert set(paths) == {"/v1/viewer/studies", "/v1/express"}
    html = response.content.decode()
    assert html.count('class="worklist-row') == 30
    assert html.count("Ann Lee") == 30
    assert html.count("Lakeside Imaging") >= 30


def test_customer_list_is_cached_between_renders(api: FakeAPI, get: Callable[..., Any]) -> None:
    get()
    get("?severity=stat")
    paths = [api.path(r) for r in api.requests]
    assert paths.count("/v1/viewer/studies") == 3  # urgent first adds one call to the first
    assert paths.count("/v1/express") == 1


def test_chosen_assignee_is_named_from_a_row_without_a_user_call(
    api: FakeAPI, get: Callable[..., Any]
) -> None:
    api.studies = [study_json(1, assignedTo=user_ref_json(first="John", last="Smith"))]
    html = get(f"?assigned_to={USER_ID}").content.decode()
    assert f'name="assigned_to" value="{USER_ID}" checked>' in html
    assert "John Smith" in html
    assert all(api.path(r) != f"/v1/viewer/users/{USER_ID}" for r in api.requests)


def test_chosen_assignee_is_named_from_the_cached_user_when_no_row_shows_it(
    api: FakeAPI, get: Callable[..., Any]
) -> None:
    html = get(f"?assigned_to={USER_ID}").content.decode()
    assert "Assigned to John R. Smith, MD" in html


# --- Rows ---------------------------------------------------------------------------------------


def test_a_row_shows_every_column(api: FakeAPI, get: Callable[..., Any]) -> None:
    uid = "1.3.6.1.4.1.62853.20250130.1738242672936.234543143652"
    api.studies = [
        study_json(
            7,
            severity="stat",
            studyDescription="Brain MRI <with> Contrast",
            studyInstanceUid=uid,
            studyViewerStatus="complete",
            isCancelled=True,
            cancelledAt="2025-02-01T08:00:00Z",
            assignedTo=JOHN,
            expressCustomer=customer_ref_json(name="Lakeside Imaging"),
        )
    ]
    html = get("?cancelled=all").content.decode()
    study_id = f"stu_{7:032x}"
    assert '<span class="badge badge--stat">STAT</span>' in html
    assert "Brain MRI &lt;with&gt; Contrast" in html
    assert f'href="{reverse("study_detail", args=[study_id])}"' in html
    assert f'<code title="{uid}">' in html
    assert "1.3.6.1.4.\u2026234543143652" in html
    assert f'data-copy-text="{uid}"' in html
    assert "John R. Smith, MD" in html
    assert "Lakeside Imaging" in html
    assert '<span class="badge badge--complete">Complete</span>' in html
    assert "badge--cancelled" in html
    assert '<time datetime="2025-01-30T12:51:12.936000+00:00" title="30 Jan 2025, 12:51">' in (html)


def test_unassigned_and_no_customer_are_said(api: FakeAPI, get: Callable[..., Any]) -> None:
    api.studies = [study_json(1)]
    html = get().content.decode()
    assert '<span class="muted">Unassigned</span>' in html
    assert '<span class="muted">None</span>' in html


# --- Paging --------------------------------------------------------------------------------------


def test_paging_walks_the_cursor_with_the_same_filters(
    api: FakeAPI, get: Callable[..., Any]
) -> None:
    api.studies = [study_json(n, severity="stat") for n in range(1, 121)]
    first = get("?severity=stat").content.decode()
    assert first.count('class="worklist-row') == 50
    assert 'id="load-more"' in first
    assert 'href="/?severity=stat&amp;cursor=50"' in first

    second = get("?severity=stat&cursor=50").content.decode()
    assert second.count('class="worklist-row') == 50
    assert "CT Head 51" in second
    assert "CT Head 50<" not in second
    assert 'href="/?severity=stat&amp;cursor=100"' in second
    assert "Back to the first page" in second

    third = get("?severity=stat&cursor=100").content.decode()
    assert third.count('class="worklist-row') == 20
    assert 'id="load-more"' not in third

    assert study_queries(api) == [
        {"severity": "stat", "isCancelled": "false", "limit": "50"},
        {"severity": "stat", "isCancelled": "false", "limit": "50", "cursor": "50"},
        {"severity": "stat", "isCancelled": "false", "limit": "50", "cursor": "100"},
    ]


def test_load_more_over_htmx_answers_only_the_rows_and_the_next_button(
    api: FakeAPI, get: Callable[..., Any]
) -> None:
    api.studies = [study_json(n) for n in range(1, 121)]
    response = get("?cursor=50", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="load-more")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<table" not in html
    assert "<form" not in html
    assert html.strip().startswith('<tr class="worklist-row')
    assert html.count('class="worklist-row') == 50
    assert 'id="load-more"' in html
    assert "cursor=100" in html
    assert "HX-Request" in response["Vary"]


def test_filter_change_over_htmx_answers_the_results_region(
    api: FakeAPI, get: Callable[..., Any]
) -> None:
    api.studies = [study_json(1)]
    response = get("?q=head", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="worklist-results")
    html = response.content.decode()
    assert html.strip().startswith('<div id="worklist-results"')
    assert "<form" not in html
    assert len(study_queries(api)) == 2  # the list, and urgent first's one call


def test_chip_over_htmx_answers_filters_and_results(api: FakeAPI, get: Callable[..., Any]) -> None:
    html = get("?severity=stat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="worklist").content
    text = html.decode()
    assert text.strip().startswith('<section id="worklist"')
    assert 'id="worklist-filters"' in text
    assert 'id="worklist-results"' in text
    assert "<html" not in text


def test_history_restore_gets_the_full_page(api: FakeAPI, get: Callable[..., Any]) -> None:
    html = get(
        "?severity=stat",
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    ).content.decode()
    assert "<html" in html


def test_quick_chips_set_and_unset_their_filter(api: FakeAPI, get: Callable[..., Any]) -> None:
    html = get("?q=head").content.decode()
    assert 'href="/?q=head&amp;severity=stat"' in html
    assert 'href="/?q=head&amp;assigned_to=unassigned"' in html
    html = get("?q=head&severity=stat&assigned_to=unassigned").content.decode()
    assert 'class="chip chip--on" href="/?assigned_to=unassigned&amp;q=head"' in html
    assert 'class="chip chip--on" href="/?severity=stat&amp;q=head"' in html


# --- States ---------------------------------------------------------------------------------------


def test_empty_state_says_which_filters_are_on(api: FakeAPI, get: Callable[..., Any]) -> None:
    html = get(f"?severity=high&assigned_to=unassigned&customer={CUSTOMER_ID}&q=knee").content
    text = html.decode()
    assert "No studies match these filters." in text
    for words in (
        "Severity High",
        "Unassigned",
        "Customer Lakeside Imaging",
        "Description contains \u201cknee\u201d",
        "Active studies only",
    ):
        assert words in text
    assert "Clear all filters" in text


def test_empty_worklist_without_filters(api: FakeAPI, get: Callable[..., Any]) -> None:
    text = get("?cancelled=all").content.decode()
    assert "No studies match." in text
    assert "Clear all filters" not in text


@pytest.mark.parametrize("status", [500, 503, 429, 401])
def test_api_failure_renders_the_page_with_a_banner_and_retry(
    api: FakeAPI, get: Callable[..., Any], status: int
) -> None:
    api.route("GET", "/v1/viewer/studies", error(status, "x", "x"))
    response = get("?severity=stat")
    text = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in text
    assert "The worklist could not be loaded." in text
    assert 'href="/?severity=stat"' in text
    assert "Try again" in text
    assert "No studies match" not in text
    assert "<h1>Worklist</h1>" in text


def test_a_stale_cursor_offers_the_first_page(
    api: FakeAPI, get: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_kwargs: Any) -> None:
        raise viewer_api.InvalidRequest("bad cursor", status_code=400)

    monkeypatch.setattr(viewer_api, "study_list", refuse)
    text = get("?severity=stat&cursor=abc").content.decode()
    assert "This page link is no longer valid" in text
    assert 'href="/?severity=stat"' in text
    assert "Go to the first page" in text


def test_observers_see_the_worklist(api: FakeAPI, observer_client: Any) -> None:
    api.studies = [study_json(1)]
    response = observer_client.get(reverse("home"))
    assert response.status_code == 200
    assert "CT Head 1" in response.content.decode()


def test_no_inline_scripts_or_styles(api: FakeAPI, get: Callable[..., Any]) -> None:
    api.studies = [study_json(n) for n in range(1, 60)]
    html = get().content.decode()
    assert "<script>" not in html
    assert " style=" not in html
    assert " onclick=" not in html.lower()
