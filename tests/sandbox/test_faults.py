"""Fault injection through the control endpoint, against the live server with httpx."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from sandbox.factories import SandboxFactory
from sandbox.models import SandboxFault, SandboxStudy

pytestmark = pytest.mark.django_db(transaction=True)

KEY = {"Authorization": "Bearer sandbox-demo-key"}


def create_body(uid: str) -> dict[str, Any]:
    return {"severity": "normal", "studyDescription": "CT Head", "studyInstanceUid": uid}


def test_arm_list_and_clear(sandbox_url: str) -> None:
    url = f"{sandbox_url}/_sandbox/faults"
    armed = httpx.post(
        url,
        json={"fault": "status", "status": 502, "method": "post", "path": "/v1/viewer/studies"},
        headers=KEY,
    )
    assert armed.status_code == 201
    fault = armed.json()
    assert fault["id"].startswith("flt_")
    assert fault == {
        "id": fault["id"],
        "fault": "status",
        "method": "POST",
        "path": "/v1/viewer/studies",
        "count": 1,
        "remaining": 1,
        "applied": 0,
        "createdAt": fault["createdAt"],
        "status": 502,
    }
    httpx.post(url, json={"fault": "latency", "seconds": 0.1, "count": 3}, headers=KEY)
    listed = httpx.get(url, headers=KEY).json()["faults"]
    assert [f["fault"] for f in listed] == ["status", "latency"]
    assert listed[1]["seconds"] == 0.1
    assert listed[1]["path"] is None
    assert SandboxFault.objects.count() == 2  # stored, so any thread or process sees it

    cleared = httpx.delete(url, headers=KEY)
    assert cleared.status_code == 200
    assert cleared.json() == {"success": True, "cleared": 2}
    assert httpx.get(url, headers=KEY).json() == {"faults": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "fault"),
        ({"fault": "explode"}, "fault"),
        ({"fault": "status", "status": 404}, "status"),
        ({"fault": "status", "status": "500"}, "status"),
        ({"fault": "latency", "seconds": -1}, "seconds"),
        ({"fault": "hang", "seconds": "30"}, "seconds"),
        ({"fault": "rate_limit", "retryAfter": -2}, "retryAfter"),
        ({"fault": "commit_then_fail", "mode": "explode"}, "mode"),
        ({"fault": "status", "count": 0}, "count"),
        ({"fault": "status", "count": True}, "count"),
        ({"fault": "status", "method": "FETCH"}, "method"),
        ({"fault": "status", "path": "v1/viewer"}, "path"),
        ({"fault": "status", "persistent": True}, "persistent"),
        ({"fault": "latency", "persistent": "yes"}, "persistent"),
        ({"fault": "latency", "persistent": True, "count": 5}, "count"),
    ],
)
def test_arming_is_validated(sandbox_url: str, body: dict[str, Any], field: str) -> None:
    response = httpx.post(f"{sandbox_url}/_sandbox/faults", json=body, headers=KEY)
    assert response.status_code == 400
    assert field in {d["field"] for d in response.json()["error"]["details"]}


def test_the_control_endpoint_needs_the_key(sandbox_url: str) -> None:
    url = f"{sandbox_url}/_sandbox/faults"
    assert httpx.post(url, json={"fault": "status"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.delete(url).status_code == 401
    assert httpx.put(url, headers=KEY).status_code == 405


def test_status_fault_answers_without_doing_the_work(sandbox_url: str, sandbox_faults: Any) -> None:
    for status in (500, 502, 503):
        sandbox_faults.arm("status", status=status)
        response = httpx.post(
            f"{sandbox_url}/v1/viewer/studies", json=create_body("1.2.3"), headers=KEY
        )
        assert response.status_code == status
        assert response.json()["error"]["code"] == "internal"
        assert "x-should-retry" not in response.headers
    assert not SandboxStudy.objects.exists()
    assert sandbox_faults.armed() == []


def test_rate_limit_fault(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("rate_limit", retry_after=2)
    response = httpx.get(f"{sandbox_url}/v1/viewer/users", headers=KEY)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "rate_limited"
    assert httpx.get(f"{sandbox_url}/v1/viewer/users", headers=KEY).status_code == 200


def test_malformed_json_fault(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("malformed_json")
    response = httpx.get(f"{sandbox_url}/v1/viewer/studies", headers=KEY)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_latency_fault_delays_then_answers(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("latency", seconds=0.4)
    started = time.monotonic()
    response = httpx.get(f"{sandbox_url}/v1/express", headers=KEY)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert response.json() == {"expressCustomers": [], "cursor": None, "hasMore": False}


def test_hang_fault_outlasts_the_client_timeout(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("hang", seconds=1)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{sandbox_url}/v1/viewer/studies", headers=KEY, timeout=0.3)
    # The server keeps serving other requests meanwhile.
    assert httpx.get(f"{sandbox_url}/v1/viewer/studies", headers=KEY).status_code == 200


def test_commit_then_fail_creates_the_study_then_answers_502(
    sandbox_url: str, sandbox_faults: Any
) -> None:
    sandbox_faults.arm("commit_then_fail")
    response = httpx.post(
        f"{sandbox_url}/v1/viewer/studies", json=create_body("1.2.3"), headers=KEY
    )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "internal"
    found = httpx.get(f"{sandbox_url}/v1/viewer/studies/by-uid/1.2.3", headers=KEY)
    assert found.status_code == 200


def test_commit_then_fail_can_drop_the_connection(
    sandbox_url: str, sandbox_faults: Any, sandbox_factory: SandboxFactory
) -> None:
    study = sandbox_factory.study()
    sandbox_faults.arm("commit_then_fail", mode="drop", count=2)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{sandbox_url}/v1/viewer/studies", json=create_body("1.2.3"), headers=KEY)
    assert SandboxStudy.objects.filter(study_instance_uid="1.2.3").exists()
    with pytest.raises(httpx.TransportError):
        httpx.post(
            f"{sandbox_url}/v1/viewer/studies/cancel", json={"studyId": study.study_id}, headers=KEY
        )
    study.refresh_from_db()
    assert study.is_cancelled
    # The server is fine afterwards, on a new connection.
    assert httpx.get(f"{sandbox_url}/v1/viewer/studies", headers=KEY).status_code == 200


def test_count_method_and_path_select_the_requests(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("status", status=503, count=2, method="GET", path="/v1/viewer/users")
    studies = f"{sandbox_url}/v1/viewer/studies"
    users = f"{sandbox_url}/v1/viewer/users"
    assert httpx.get(studies, headers=KEY).status_code == 200
    assert httpx.post(users, json={}, headers=KEY).status_code == 405
    assert httpx.get(users, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert sandbox_faults.armed()[0]["remaining"] == 2
    assert httpx.get(users, headers=KEY).status_code == 503
    assert sandbox_faults.armed()[0]["remaining"] == 1
    assert httpx.get(f"{users}/usr_{'0' * 32}", headers=KEY).status_code == 503
    assert sandbox_faults.armed() == []
    assert httpx.get(users, headers=KEY).status_code == 200


def test_faults_never_touch_the_control_paths(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("status", path="/")
    assert len(sandbox_faults.armed()) == 1
    sandbox_faults.arm("status", status=502)
    assert len(sandbox_faults.armed()) == 2
    assert httpx.get(f"{sandbox_url}/v1/express", headers=KEY).status_code == 500
    assert httpx.get(f"{sandbox_url}/v1/express", headers=KEY).status_code == 502
    assert httpx.get(f"{sandbox_url}/v1/express", headers=KEY).status_code == 200


def test_persistent_latency_delays_every_call_and_counts_them(
    sandbox_url: str, sandbox_faults: Any
) -> None:
    fault = sandbox_faults.arm("latency", seconds=0.2, persistent=True)
    assert (fault["persistent"], fault["count"], fault["remaining"]) == (True, None, None)
    sandbox_faults.arm("status", status=503)  # a one-off fault still applies, after the wait
    studies = f"{sandbox_url}/v1/viewer/studies"
    timings: list[float] = []
    statuses: list[int] = []
    for _ in range(3):
        started = time.monotonic()
        statuses.append(httpx.get(studies, headers=KEY).status_code)
        timings.append(time.monotonic() - started)
    assert statuses == [503, 200, 200]
    assert min(timings) >= 0.2
    httpx.get(f"{sandbox_url}/_sandbox/faults", headers=KEY)  # control paths: not delayed
    [still] = sandbox_faults.armed()
    assert (still["id"], still["applied"]) == (fault["id"], 3)


def test_a_persistent_latency_of_zero_only_counts(sandbox_url: str, sandbox_faults: Any) -> None:
    sandbox_faults.arm("latency", seconds=0, persistent=True, path="/v1/viewer/users")
    for path in ("/v1/viewer/users", "/v1/viewer/users", "/v1/express"):
        assert httpx.get(f"{sandbox_url}{path}", headers=KEY).status_code == 200
    assert sandbox_faults.armed()[0]["applied"] == 2
    sandbox_faults.clear()
    assert sandbox_faults.armed() == []
