"""The commit-then-fail variants an unknown outcome needs (issue 13): an unreadable answer to
work that was done, and an outage right after the commit, against the live server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandbox.factories import random_uid
from sandbox.models import SandboxStudy

pytestmark = pytest.mark.django_db(transaction=True)

KEY = {"Authorization": "Bearer sandbox-demo-key"}


def arm(sandbox_url: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{sandbox_url}/_sandbox/faults", json=body, headers=KEY)


def create(sandbox_url: str, uid: str) -> httpx.Response:
    body = {"severity": "normal", "studyDescription": "CT Head", "studyInstanceUid": uid}
    return httpx.post(f"{sandbox_url}/v1/viewer/studies", json=body, headers=KEY)


@pytest.mark.parametrize("outage", [-1, 1.5, True, "3", 10_001])
def test_an_outage_is_a_whole_number_of_requests(sandbox_url: str, outage: Any) -> None:
    response = arm(sandbox_url, fault="commit_then_fail", outage=outage)
    assert response.status_code == 400
    assert "outage" in response.text


def test_an_unreadable_answer_to_work_that_was_done(sandbox_url: str) -> None:
    assert arm(sandbox_url, fault="commit_then_fail", mode="malformed").status_code == 201
    uid = random_uid()
    response = create(sandbox_url, uid)
    assert response.status_code == 201  # the real status
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1


def test_an_outage_after_the_commit_fails_the_next_requests_whatever_they_are(
    sandbox_url: str,
) -> None:
    armed = arm(sandbox_url, fault="commit_then_fail", mode="status", outage=2)
    assert armed.json()["outage"] == 2
    uid = random_uid()
    assert create(sandbox_url, uid).status_code == 502
    assert SandboxStudy.objects.filter(study_instance_uid=uid).count() == 1
    by_uid = f"{sandbox_url}/v1/viewer/studies/by-uid/{uid}"
    assert httpx.get(by_uid, headers=KEY).status_code == 503
    assert create(sandbox_url, random_uid()).status_code == 503  # nothing done
    assert SandboxStudy.objects.count() == 1
    assert httpx.get(by_uid, headers=KEY).status_code == 200  # back up
