"""The sandbox over plain HTTP (Django test client): validation, errors, auth, scoping, paging."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sandbox import store
from sandbox.factories import SandboxFactory, make_api_key
from sandbox.models import SandboxStudy, SandboxViewerToken
from tests.sandbox.support import STUDY_KEYS, TIMESTAMP, Api, assert_error

UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
STUDIES = "/v1/viewer/studies"


def new_study(**overrides: Any) -> dict[str, Any]:
    return {
        "severity": "high",
        "studyDescription": "CT Chest with Contrast",
        "studyInstanceUid": UID,
        **overrides,
    }


# --- Auth and scoping (§12.20) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "Basic c2FuZGJveC1kZW1vLWtleQ=="},
        {"Authorization": "Bearer"},
        {"Authorization": "sandbox-demo-key"},
    ],
)
def test_missing_or_wrong_key_is_401(api: Api, headers: dict[str, str]) -> None:
    response = api.get(STUDIES, key="", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_key_is_read_from_settings_at_request_time(api: Api, settings: Any) -> None:
    assert api.get(STUDIES).status_code == 200
    settings.VIEWER_API_KEY = "rotated-key"
    assert_error(api.get(STUDIES, key="sandbox-demo-key"), 401, "unauthorized")
    assert api.get(STUDIES, key="rotated-key").status_code == 200


def test_a_key_with_viewer_disabled_gets_403_on_viewer_paths_only(
    api: Api, sandbox_factory: SandboxFactory
) -> None:
    sandbox_factory.api_key("express-only", is_viewer_enabled=False)
    assert_error(api.get(STUDIES, key="express-only"), 403, "forbidden")
    assert_error(api.get("/v1/viewer/users", key="express-only"), 403, "forbidden")
    assert api.get("/v1/express", key="express-only").status_code == 200


def test_each_key_sees_only_its_own_clinic(api: Api, sandbox_factory: SandboxFactory) -> None:
    mine = sandbox_factory.study()
    user = sandbox_factory.user()
    customer = sandbox_factory.customer()
    make_api_key("other-clinic")
    other = {"key": "other-clinic"}

    assert api.get(STUDIES, **other).json()["studies"] == []
    assert api.get("/v1/viewer/users", **other).json()["users"] == []
    assert api.get("/v1/express", **other).json()["expressCustomers"] == []
    assert_error(api.get(f"{STUDIES}/{mine.study_id}", **other), 404, "not_found")
    by_uid = f"{STUDIES}/by-uid/{mine.study_instance_uid}"
    assert_error(api.get(by_uid, **other), 404, "not_found")
    assert_error(api.get(f"/v1/viewer/users/{user.user_id}", **other), 404, "not_found")
    assert_error(api.get(f"/v1/express/{customer.customer_id}", **other), 404, "not_found")
    cancel = api.post(f"{STUDIES}/cancel", {"studyId": mine.study_id}, **other)
    assert_error(cancel, 404, "not_found")
    # Another clinic's user or customer cannot be referenced either.
    response = api.post(STUDIES, new_study(assignedTo=user.user_id), **other)
    assert_error(response, 400, "validation_error", "assignedTo")
    response = api.post(STUDIES, new_study(expressCustomerId=customer.customer_id), **other)
    assert_error(response, 400, "validation_error", "expressCustomerId")
    # The same UID may exist once per clinic.
    response = api.post(STUDIES, new_study(studyInstanceUid=mine.study_instance_uid), **other)
    assert response.status_code == 201


def test_keys_never_reach_the_log(
    api: Api, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get(STUDIES)
    api.get(STUDIES, key="a-wrong-secret-key")
    monkeypatch.setattr(store, "studies", lambda clinic_id: 1 / 0)
    api.get(STUDIES, headers={"X-Stainless-Retry-Count": "1"})
    assert "sandbox-demo-key" not in caplog.text
    assert "a-wrong-secret-key" not in caplog.text


# --- Create (§6.1) ---------------------------------------------------------------------------


def test_create_answers_201_with_the_full_study_shape(
    api: Api, sandbox_factory: SandboxFactory
) -> None:
    user = sandbox_factory.user(suffix1="MD", middle_name="Ann")
    customer = sandbox_factory.customer(name="Lakeside Orthopedic Group")
    body = new_study(
        assignedTo=user.user_id.upper().replace("USR_", "usr_"),
        expressCustomerId=customer.customer_id,
        metadata={"ward": "ED"},
        unknownKey="ignored",
    )
    response = api.post(STUDIES, body)
    assert response.status_code == 201, response.content
    study = response.json()
    assert set(study) == STUDY_KEYS
    assert study["studyId"].startswith("stu_")
    assert len(study["studyId"]) == 36
    assert study["studyViewerStatus"] == "incomplete"
    assert study["isCancelled"] is False
    assert study["cancelledAt"] is None
    assert TIMESTAMP.match(study["createdAt"])
    assert study["createdAt"] == study["updatedAt"]
    assert study["assignedTo"] == {
        "userId": user.user_id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "middleName": "Ann",
        "suffix1": "MD",
        "suffix2": None,
    }
    assert study["createdByApiKey"]["description"]
    assert study["createdByApiKey"]["isViewerEnabled"] is True
    assert study["createdByUser"] is None
    assert study["expressCustomer"] == {
        "expressCustomerId": customer.customer_id,
        "expressCustomerName": "Lakeside Orthopedic Group",
    }
    assert study["metadata"] == {"ward": "ED"}


def test_create_without_metadata_stores_an_empty_object_and_null_assignee_is_unassigned(
    api: Api,
) -> None:
    study = api.post(STUDIES, new_study(assignedTo=None)).json()
    assert study["metadata"] == {}
    assert study["assignedTo"] is None
    assert SandboxStudy.objects.get(pk=study["studyId"]).metadata == {}


def test_create_reports_every_missing_field(api: Api) -> None:
    error = assert_error(
        api.post(STUDIES, {}),
        400,
        "validation_error",
        "severity",
        "studyDescription",
        "studyInstanceUid",
    )
    assert "severity" in error["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": None}, "severity"),
        ({"severity": "urgent"}, "severity"),
        ({"severity": "STAT"}, "severity"),
        ({"severity": 1}, "severity"),
        ({"studyDescription": ""}, "studyDescription"),
        ({"studyDescription": "   "}, "studyDescription"),
        ({"studyDescription": "x" * 1001}, "studyDescription"),
        ({"studyDescription": ["CT"]}, "studyDescription"),
        ({"studyDescription": "CT\x00Head"}, "studyDescription"),
        ({"studyDescription": "\ud800"}, "studyDescription"),
        ({"studyInstanceUid": None}, "studyInstanceUid"),
        ({"studyInstanceUid": 1.2}, "studyInstanceUid"),
        ({"assignedTo": "usr_123"}, "assignedTo"),
        ({"assignedTo": "stu_" + "a" * 32}, "assignedTo"),
        ({"assignedTo": 5}, "assignedTo"),
        ({"expressCustomerId": None}, "expressCustomerId"),
        ({"expressCustomerId": "cus_" + "g" * 32}, "expressCustomerId"),
        ({"metadata": None}, "metadata"),
        ({"metadata": []}, "metadata"),
        ({"metadata": "ward=ED"}, "metadata"),
        ({"metadata": {"ward": 1}}, "metadata"),
        ({"metadata": {"ward": None}}, "metadata"),
        ({"metadata": {"": "x"}}, "metadata"),
        ({"metadata": {"k" * 101: "x"}}, "metadata"),
        ({"metadata": {"ward": "x" * 1001}}, "metadata"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
    ],
)
def test_create_rejects_bad_fields_with_details(
    api: Api, overrides: dict[str, Any], field: str
) -> None:
    assert_error(api.post(STUDIES, new_study(**overrides)), 400, "validation_error", field)
    assert not SandboxStudy.objects.exists()


def test_create_accepts_the_limits_exactly(api: Api) -> None:
    metadata = {f"{i:0>100}": "v" * 1000 for i in range(50)}
    response = api.post(STUDIES, new_study(studyDescription="x" * 1000, metadata=metadata))
    assert response.status_code == 201, response.content
    assert response.json()["metadata"] == metadata


@pytest.mark.parametrize(
    "uid",
    [
        "",
        "1..2",
        ".1.2",
        "1.2.",
        "1.02.3",
        "01.2",
        "1.2.a",
        "1.2 .3",
        " 1.2",
        "1,2",
        "1.2.\uff13",
        "1." + "2" * 63,
    ],
)
def test_create_rejects_invalid_dicom_uids(api: Api, uid: str) -> None:
    response = api.post(STUDIES, new_study(studyInstanceUid=uid))
    assert_error(response, 400, "validation_error", "studyInstanceUid")


@pytest.mark.parametrize(
    "uid", ["0", "1.2.0.3", "2.25.0", "1.2.840.10008.5.1.4.1.1.2", "1." + "2" * 62]
)
def test_create_accepts_valid_dicom_uids(api: Api, uid: str) -> None:
    assert api.post(STUDIES, new_study(studyInstanceUid=uid)).status_code == 201


def test_unknown_or_revoked_assignee_is_400(api: Api, sandbox_factory: SandboxFactory) -> None:
    revoked = sandbox_factory.user(is_revoked=True)
    unknown = "usr_" + "0" * 32
    for user_id in (unknown, revoked.user_id):
        response = api.post(STUDIES, new_study(assignedTo=user_id))
        assert_error(response, 400, "validation_error", "assignedTo")


def test_assignee_needs_no_study_management_permission(
    api: Api, sandbox_factory: SandboxFactory
) -> None:
    reader = sandbox_factory.user(can_manage_studies=False)
    assert api.post(STUDIES, new_study(assignedTo=reader.user_id)).status_code == 201


def test_unknown_customer_is_400_and_deactivated_customer_is_a_final_409(
    api: Api, sandbox_factory: SandboxFactory
) -> None:
    unknown = api.post(STUDIES, new_study(expressCustomerId="cus_" + "1" * 32))
    assert_error(unknown, 400, "validation_error", "expressCustomerId")
    inactive = sandbox_factory.customer(is_active=False)
    response = api.post(STUDIES, new_study(expressCustomerId=inactive.customer_id))
    assert_error(response, 409, "conflict", "expressCustomerId")
    assert response["x-should-retry"] == "false"


@pytest.mark.parametrize("cancelled", [False, True])
def test_duplicate_uid_is_a_final_409(
    api: Api, sandbox_factory: SandboxFactory, cancelled: bool
) -> None:
    sandbox_factory.study(study_instance_uid=UID, is_cancelled=cancelled)
    response = api.post(STUDIES, new_study())
    assert_error(response, 409, "conflict", "studyInstanceUid")
    assert response["x-should-retry"] == "false"
    assert SandboxStudy.objects.count() == 1


# --- Bodies (§14 "Requests") -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b"{", "application/json", 400, "validation_error"),
        (b'{"severity": "high",}', "application/json", 400, "validation_error"),
        (b"[]", "application/json", 400, "validation_error"),
        (b'"text"', "application/json", 400, "validation_error"),
        (b"null", "application/json", 400, "validation_error"),
        (b"", "application/json", 400, "validation_error"),
        (b"   ", "application/json", 400, "validation_error"),
        (b'{"severity": NaN}', "application/json", 400, "validation_error"),
        (b'{"a": Infinity}', "application/json", 400, "validation_error"),
        (b"\xff\xfe{}", "application/json", 400, "validation_error"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "validation_error"),
        (b'{"severity": 1' + b"0" * 5000 + b"}", "application/json", 400, "validation_error"),
        (b"severity=high", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b'{"severity": "high"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"severity": "high"}', "", 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_get_a_precise_4xx(
    api: Api, raw: bytes, content_type: str, status: int, code: str
) -> None:
    for method, path in (("POST", STUDIES), ("POST", f"{STUDIES}/cancel")):
        response = api.send(method, path, raw=raw, content_type=content_type)
        assert_error(response, status, code)


def test_json_media_type_variants_are_accepted(api: Api) -> None:
    for index, content_type in enumerate(
        ["application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"]
    ):
        body = json.dumps(new_study(studyInstanceUid=f"1.2.{index}")).encode()
        assert api.post(STUDIES, raw=body, content_type=content_type).status_code == 201


def test_oversized_body_is_413(api: Api) -> None:
    raw = json.dumps(new_study(pad="x" * (1024 * 1024))).encode()
    assert_error(api.post(STUDIES, raw=raw), 413, "payload_too_large")


def test_unsupported_methods_and_paths_answer_json(api: Api) -> None:
    response = api.send("DELETE", STUDIES)
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, POST"
    assert_error(api.send("PUT", f"{STUDIES}/stu_{'a' * 32}"), 405, "method_not_allowed")
    for path in (
        f"{STUDIES}/",
        "/v1/viewer/nothing",
        "/v1/viewer/users/invitations",
        "/v1/viewer/users/revoke-access",
        "/v1/viewer/ephemeral-sessions",
        "/elsewhere",
    ):
        assert_error(api.get(path), 404, "not_found")
        assert_error(api.post(path, {}), 404, "not_found")


def test_an_unexpected_error_is_a_json_500(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(store, "create_study", explode)
    error = assert_error(api.post(STUDIES, new_study()), 500, "internal")
    assert "boom" not in error["message"]


# --- Retrieve, update (§6.2, §6.3, §6.8) -----------------------------------------------------


def test_retrieve_by_id_and_by_uid(api: Api, sandbox_factory: SandboxFactory) -> None:
    study = sandbox_factory.study(study_instance_uid=UID)
    by_id = api.get(f"{STUDIES}/{study.study_id}")
    assert by_id.status_code == 200
    assert set(by_id.json()) == STUDY_KEYS
    assert api.get(f"{STUDIES}/{study.study_id.upper().replace('STU_', 'stu_')}").json() == (
        by_id.json()
    )
    assert api.get(f"{STUDIES}/by-uid/{UID}").json() == by_id.json()


def test_retrieve_errors(api: Api) -> None:
    assert_error(api.get(f"{STUDIES}/stu_{'0' * 32}"), 404, "not_found")
    assert_error(api.get(f"{STUDIES}/not-an-id"), 400, "validation_error", "studyId")
    assert_error(api.get(f"{STUDIES}/by-uid/1.2.3"), 404, "not_found")
    assert_error(api.get(f"{STUDIES}/by-uid/1.02"), 400, "validation_error", "studyInstanceUid")
    assert_error(api.get(f"{STUDIES}/by-uid/1.2%203"), 400, "validation_error")
    assert_error(api.get(f"/v1/viewer/users/usr_{'0' * 32}"), 404, "not_found")
    assert_error(api.get("/v1/viewer/users/bob"), 400, "validation_error", "userId")
    assert_error(api.get(f"/v1/express/cus_{'0' * 32}"), 404, "not_found")
    assert_error(api.get("/v1/express/acme"), 400, "validation_error", "expressCustomerId")


def test_patch_applies_given_fields_only(api: Api, sandbox_factory: SandboxFactory) -> None:
    user = sandbox_factory.user()
    study = sandbox_factory.study(
        assigned_to=user, metadata={"old": "1"}, created_at=timezone.now() - timedelta(hours=1)
    )
    path = f"{STUDIES}/{study.study_id}"
    before = api.get(path).json()

    unchanged = api.patch(path, {})
    assert unchanged.status_code == 200
    assert unchanged.json() == before

    changed = api.patch(
        path,
        {
            "severity": "stat",
            "studyDescription": "MRI Brain",
            "studyViewerStatus": "complete",
            "metadata": {"new": "2"},
            "studyInstanceUid": "9.9",
            "expressCustomerId": "cus_" + "1" * 32,
            "ignored": True,
        },
    ).json()
    assert changed["severity"] == "stat"
    assert changed["studyDescription"] == "MRI Brain"
    assert changed["studyViewerStatus"] == "complete"
    assert changed["metadata"] == {"new": "2"}
    assert changed["studyInstanceUid"] == before["studyInstanceUid"]
    assert changed["expressCustomer"] is None
    assert changed["assignedTo"]["userId"] == user.user_id
    assert changed["updatedAt"] > before["updatedAt"]

    cleared = api.patch(path, {"metadata": None, "assignedTo": None}).json()
    assert cleared["metadata"] == {}
    assert cleared["assignedTo"] is None

    other = sandbox_factory.user()
    assert api.patch(path, {"assignedTo": other.user_id}).json()["assignedTo"]["userId"] == (
        other.user_id
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": None}, "severity"),
        ({"studyDescription": None}, "studyDescription"),
        ({"studyViewerStatus": None}, "studyViewerStatus"),
        ({"studyViewerStatus": "done"}, "studyViewerStatus"),
        ({"studyDescription": ""}, "studyDescription"),
        ({"metadata": {"a": 1}}, "metadata"),
        ({"assignedTo": "usr_" + "0" * 32}, "assignedTo"),
        ({"assignedTo": "nobody"}, "assignedTo"),
    ],
)
def test_patch_rejects_bad_fields(
    api: Api, sandbox_factory: SandboxFactory, body: dict[str, Any], field: str
) -> None:
    study = sandbox_factory.study()
    response = api.patch(f"{STUDIES}/{study.study_id}", body)
    assert_error(response, 400, "validation_error", field)


def test_patch_of_unknown_study_is_404(api: Api) -> None:
    assert_error(api.patch(f"{STUDIES}/stu_{'0' * 32}", {}), 404, "not_found")


# --- Cancel, uncancel, reroute (§6.5-6.7, §12.12, §12.13) ------------------------------------


def test_cancel_and_uncancel(api: Api, sandbox_factory: SandboxFactory) -> None:
    study = sandbox_factory.study(study_instance_uid=UID)
    path = f"{STUDIES}/{study.study_id}"

    response = api.post(f"{STUDIES}/cancel", {"studyId": study.study_id})
    assert response.json() == {"success": True, "message": "cancelled"}
    cancelled = api.get(path).json()
    assert cancelled["isCancelled"] is True
    assert TIMESTAMP.match(cancelled["cancelledAt"])
    assert cancelled["updatedAt"] == cancelled["cancelledAt"]

    again = api.post(f"{STUDIES}/cancel", {"studyInstanceUid": UID})
    assert again.status_code == 200
    assert again.json() == {"success": True, "message": "already cancelled"}

    both = {"studyId": study.study_id, "studyInstanceUid": UID}
    assert api.post(f"{STUDIES}/uncancel", both).json()["success"] is True
    active = api.get(path).json()
    assert active["isCancelled"] is False
    assert active["cancelledAt"] is None

    response = api.post(f"{STUDIES}/uncancel", {"studyId": study.study_id})
    assert_error(response, 409, "conflict")
    assert response["x-should-retry"] == "false"


@pytest.mark.parametrize("action", ["cancel", "uncancel", "reroute-url"])
def test_study_identification_errors(
    api: Api, sandbox_factory: SandboxFactory, action: str
) -> None:
    first = sandbox_factory.study()
    second = sandbox_factory.study()
    path = f"{STUDIES}/{action}"
    assert_error(api.post(path, {}), 400, "validation_error", "studyId")
    assert_error(api.post(path, {"studyId": None}), 400, "validation_error", "studyId")
    assert_error(api.post(path, {"studyId": "stu_1"}), 400, "validation_error", "studyId")
    bad_uid = {"studyInstanceUid": "1..2"}
    assert_error(api.post(path, bad_uid), 400, "validation_error", "studyInstanceUid")
    mismatch = {"studyId": first.study_id, "studyInstanceUid": second.study_instance_uid}
    assert_error(api.post(path, mismatch), 400, "validation_error", "studyId")
    half_known = {"studyId": "stu_" + "0" * 32, "studyInstanceUid": second.study_instance_uid}
    assert_error(api.post(path, half_known), 400, "validation_error")
    assert_error(api.post(path, {"studyId": "stu_" + "0" * 32}), 404, "not_found")
    assert_error(api.post(path, {"studyInstanceUid": "1.2.3.4"}), 404, "not_found")
    nothing = {"studyId": "stu_" + "0" * 32, "studyInstanceUid": "1.2.3.4"}
    assert_error(api.post(path, nothing), 404, "not_found")


def test_reroute_url_leads_to_the_placeholder_viewer(
    api: Api, sandbox_factory: SandboxFactory, client: Any
) -> None:
    study = sandbox_factory.study(study_description="MRI Knee Right", is_cancelled=True)
    url = api.post(f"{STUDIES}/reroute-url", {"studyId": study.study_id}).json()["url"]
    assert url.startswith("http://testserver/sandbox/_sandbox/viewer?token=")

    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "This is the sandbox, not the Avara Viewer." in html
    assert "MRI Knee Right" in html
    assert "style=" not in html
    assert "<script" not in html
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert SandboxViewerToken.objects.get().token_hash not in url


def test_viewer_page_refuses_missing_unknown_and_expired_tokens(
    api: Api, sandbox_factory: SandboxFactory, client: Any
) -> None:
    study = sandbox_factory.study()
    url = api.post(f"{STUDIES}/reroute-url", {"studyId": study.study_id}).json()["url"]
    path = url.removeprefix("http://testserver")
    assert client.get("/sandbox/_sandbox/viewer").status_code == 400
    assert client.get("/sandbox/_sandbox/viewer?token=nope").status_code == 404
    token = SandboxViewerToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(minutes=5)
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save()
    expired = client.get(path)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()


# --- Lists (§5, §6.4, §7.3, §10.1, §12.4-12.8) -----------------------------------------------


def test_list_envelope_and_pages(api: Api, sandbox_factory: SandboxFactory) -> None:
    empty = api.get(STUDIES).json()
    assert empty == {"studies": [], "cursor": None, "hasMore": False}

    now = timezone.now()
    made = [sandbox_factory.study(created_at=now - timedelta(minutes=i)) for i in range(5)]
    first = api.get(STUDIES, {"limit": "2"}).json()
    assert [s["studyId"] for s in first["studies"]] == [made[0].study_id, made[1].study_id]
    assert first["hasMore"] is True
    assert json.loads(base64.b64decode(first["cursor"], validate=True)) == {"offset": 2}
    assert first["cursor"] == "eyJvZmZzZXQiOjJ9"

    last = api.get(STUDIES, {"limit": "2.0", "cursor": "eyJvZmZzZXQiOjR9"}).json()
    assert [s["studyId"] for s in last["studies"]] == [made[4].study_id]
    assert last["cursor"] is None
    assert last["hasMore"] is False

    exact = api.get(STUDIES, {"limit": "5"}).json()
    assert len(exact["studies"]) == 5
    assert exact["hasMore"] is False

    beyond = api.get(STUDIES, {"cursor": "eyJvZmZzZXQiOjIwfQ=="}).json()
    assert beyond == {"studies": [], "cursor": None, "hasMore": False}


def test_default_limit_is_20(api: Api, sandbox_factory: SandboxFactory) -> None:
    for _ in range(21):
        sandbox_factory.study()
    page = api.get(STUDIES).json()
    assert len(page["studies"]) == 20
    assert page["hasMore"] is True


def test_ties_on_created_at_are_broken_by_id_descending(
    api: Api, sandbox_factory: SandboxFactory
) -> None:
    moment = timezone.now()
    made = [sandbox_factory.study(created_at=moment) for _ in range(4)]
    ids = [s["studyId"] for s in api.get(STUDIES).json()["studies"]]
    assert ids == sorted((s.study_id for s in made), reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"limit": "1e1"}, "limit"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": "not base64!"}, "cursor"),
        ({"cursor": "eyJvZmZzZXQiOjJ9="}, "cursor"),
        ({"cursor": "eyJvZmZzZXQiOjIwfQ"}, "cursor"),
        ({"cursor": base64.b64encode(b"hello").decode()}, "cursor"),
        ({"cursor": base64.b64encode(b"[1]").decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":-1}').decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":"2"}').decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":true}').decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":2.5}').decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":10000000000000}').decode()}, "cursor"),
        ({"cursor": base64.b64encode(b'{"offset":2,"x":1}').decode()}, "cursor"),
        ({"cursor": "é"}, "cursor"),
        ({"assignedTo": ""}, "assignedTo"),
        ({"assignedTo": "usr_1"}, "assignedTo"),
        ({"expressCustomerId": ""}, "expressCustomerId"),
        ({"expressCustomerId": "NULL"}, "expressCustomerId"),
        ({"isCancelled": ""}, "isCancelled"),
        ({"isCancelled": "True"}, "isCancelled"),
        ({"isCancelled": "1"}, "isCancelled"),
        ({"severity": "urgent"}, "severity"),
        ({"severity": ""}, "severity"),
        ({"studyViewerStatus": "done"}, "studyViewerStatus"),
    ],
)
def test_list_rejects_bad_query_values(api: Api, params: dict[str, str], field: str) -> None:
    assert_error(api.get(STUDIES, params), 400, "validation_error", field)


def test_study_list_filters(api: Api, sandbox_factory: SandboxFactory) -> None:
    dana = sandbox_factory.user()
    customer = sandbox_factory.customer()
    a = sandbox_factory.study(
        assigned_to=dana, severity="stat", study_description="CT Head without Contrast"
    )
    b = sandbox_factory.study(
        express_customer=customer, is_cancelled=True, study_description="MRI Knee"
    )
    c = sandbox_factory.study(study_viewer_status="complete", study_description="CT+Chest")

    def ids(**params: str) -> set[str]:
        response = api.get(STUDIES, params)
        assert response.status_code == 200, response.content
        return {s["studyId"] for s in response.json()["studies"]}

    everything = {a.study_id, b.study_id, c.study_id}
    assert ids() == everything
    assert ids(assignedTo=dana.user_id) == {a.study_id}
    assert ids(assignedTo=dana.user_id.upper().replace("USR_", "usr_")) == {a.study_id}
    assert ids(assignedTo="null") == {b.study_id, c.study_id}
    assert ids(assignedTo="usr_" + "0" * 32) == set()
    assert ids(expressCustomerId=customer.customer_id) == {b.study_id}
    assert ids(expressCustomerId="null") == {a.study_id, c.study_id}
    assert ids(isCancelled="true") == {b.study_id}
    assert ids(isCancelled="false") == {a.study_id, c.study_id}
    assert ids(isCancelled="null") == everything
    assert ids(severity="stat") == {a.study_id}
    assert ids(studyViewerStatus="complete") == {c.study_id}
    assert ids(studyViewerStatus="incomplete") == {a.study_id, b.study_id}
    assert ids(studyDescription="ct ") == {a.study_id}
    assert ids(studyDescription="CT") == {a.study_id, c.study_id}
    assert ids(studyDescription="CT+Chest") == {c.study_id}
    assert ids(studyDescription="") == everything
    assert ids(severity="stat", isCancelled="false", unknown="x") == {a.study_id}


def test_plus_in_query_string_decodes_as_space(api: Api, sandbox_factory: SandboxFactory) -> None:
    study = sandbox_factory.study(study_description="CT Head")
    sandbox_factory.study(study_description="CT+Head")
    response = api.client.get(
        "/sandbox/v1/viewer/studies?studyDescription=CT+Head",
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert [s["studyId"] for s in response.json()["studies"]] == [study.study_id]


def test_user_list_filters_and_shape(api: Api, sandbox_factory: SandboxFactory) -> None:
    owner = sandbox_factory.user(
        level="owner", first_name="Margaret", last_name="Okonkwo", email="M.Okonkwo@clinic.example"
    )
    api_user = sandbox_factory.user(
        first_name="Ada",
        last_name="O'Brien",
        invited_source="api",
        phone_number="5551234567",
        suffix1="MD",
        suffix2="PhD",
        middle_name="Rose",
    )
    revoked = sandbox_factory.user(first_name="Rex", last_name="Revoked", is_revoked=True)

    def ids(**params: str) -> set[str]:
        response = api.get("/v1/viewer/users", params)
        assert response.status_code == 200, response.content
        return {u["userId"] for u in response.json()["users"]}

    assert ids() == {owner.user_id, api_user.user_id, revoked.user_id}
    assert ids(email="m.okonkwo@clinic.example") == {owner.user_id}
    assert ids(email="okonkwo@clinic.example") == set()
    assert ids(firstName="ad") == {api_user.user_id}
    assert ids(lastName="o") == {owner.user_id, api_user.user_id, revoked.user_id}
    assert ids(lastName="'bri") == {api_user.user_id}
    assert ids(invitedSource="api") == {api_user.user_id}
    assert ids(level="owner") == {owner.user_id}
    assert ids(level="member") == {api_user.user_id, revoked.user_id}
    assert_error(api.get("/v1/viewer/users", {"level": "boss"}), 400, "validation_error", "level")
    response = api.get("/v1/viewer/users", {"invitedSource": "email"})
    assert_error(response, 400, "validation_error", "invitedSource")

    user = api.get(f"/v1/viewer/users/{api_user.user_id}").json()
    assert user == {
        "userId": api_user.user_id,
        "email": api_user.email,
        "firstName": "Ada",
        "lastName": "O'Brien",
        "middleName": "Rose",
        "suffix1": "MD",
        "suffix2": "PhD",
        "phoneNumber": "5551234567",
        "level": "member",
        "clinicRole": "Radiologist",
        "canManageStudies": True,
        "hasDashboardAccess": False,
        "invitedSource": "api",
        "createdAt": user["createdAt"],
        "lastLoginAt": None,
    }
    assert TIMESTAMP.match(user["createdAt"])


def test_express_list_and_retrieve(api: Api, sandbox_factory: SandboxFactory) -> None:
    members = [sandbox_factory.user(), sandbox_factory.user()]
    active = sandbox_factory.customer(name="Harbor", members=members, metadata={"region": "x"})
    inactive = sandbox_factory.customer(name="Pinecrest", is_active=False)
    page = api.get("/v1/express", {"limit": "1"}).json()
    assert set(page) == {"expressCustomers", "cursor", "hasMore"}
    assert page["hasMore"] is True
    second = api.get("/v1/express", {"limit": "1", "cursor": page["cursor"]}).json()
    names = [c["expressCustomerName"] for c in page["expressCustomers"]]
    names += [c["expressCustomerName"] for c in second["expressCustomers"]]
    assert sorted(names) == ["Harbor", "Pinecrest"]
    assert second["hasMore"] is False

    harbor = api.get(f"/v1/express/{active.customer_id}").json()
    assert harbor == {
        "expressCustomerId": active.customer_id,
        "expressCustomerName": "Harbor",
        "isActive": True,
        "userCount": 2,
        "createdAt": harbor["createdAt"],
        "updatedAt": harbor["updatedAt"],
        "createdByApiKeyId": None,
        "createdByUserId": None,
        "metadata": {"region": "x"},
    }
    assert api.get(f"/v1/express/{inactive.customer_id}").json()["isActive"] is False
    assert api.get(f"/v1/express/{inactive.customer_id}").json()["userCount"] == 0


# --- Persistence and mounting ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_data_lives_in_the_database(client: Any, settings: Any) -> None:
    from django.db import connections

    api = Api(client, settings.VIEWER_API_KEY)
    study_id = api.post(STUDIES, new_study()).json()["studyId"]
    connections.close_all()
    assert SandboxStudy.objects.filter(pk=study_id).exists()
    assert api.get(f"{STUDIES}/{study_id}").status_code == 200


def test_migrations_are_complete(db: None) -> None:
    from django.core.management import call_command

    call_command("makemigrations", "sandbox", "--check", "--dry-run", verbosity=0)


def test_the_sandbox_is_mounted_only_when_enabled(settings: Any) -> None:
    import importlib

    from django.urls import NoReverseMatch, clear_url_caches, reverse

    import viewer_admin.urls

    assert reverse("sandbox:studies") == "/sandbox/v1/viewer/studies"
    try:
        settings.SANDBOX_ENABLED = False
        importlib.reload(viewer_admin.urls)
        clear_url_caches()
        with pytest.raises(NoReverseMatch):
            reverse("sandbox:studies")
    finally:
        settings.SANDBOX_ENABLED = True
        importlib.reload(viewer_admin.urls)
        clear_url_caches()
    assert reverse("sandbox:studies") == "/sandbox/v1/viewer/studies"
