"""A user found by the assignee type-ahead is shown again without asking the API: the worklist
filtered by that user (with no study of theirs on the page to name them) is one call, against
the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from sandbox.factories import SandboxFactory
from tests.conftest import SandboxFaults

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_picked_in_the_type_ahead_is_named_without_a_call(
    coordinator_client: Any, sandbox_factory: SandboxFactory, sandbox_faults: SandboxFaults
) -> None:
    user = sandbox_factory.user(first_name="Maren", last_name="Quist")
    coordinator_client.get(reverse("home"))  # the customer dropdown's list is cached now
    search = coordinator_client.get(reverse("assignee_search"), {"for": "filter", "q": "Quist"})
    assert "Maren Quist" in search.content.decode()

    counter = sandbox_faults.arm("latency", seconds=0, persistent=True)
    page = coordinator_client.get(reverse("home"), {"assigned_to": user.user_id, "order": "newest"})
    html = page.content.decode()
    assert "Assigned to Maren Quist" in html
    (armed,) = [fault for fault in sandbox_faults.armed() if fault["id"] == counter["id"]]
    assert armed["applied"] == 1  # the studies; its label came from the search


def test_without_the_search_the_label_is_looked_up_once(
    coordinator_client: Any, sandbox_factory: SandboxFactory, sandbox_faults: SandboxFaults
) -> None:
    user = sandbox_factory.user(first_name="Maren", last_name="Quist")
    coordinator_client.get(reverse("home"))  # the customer dropdown's list is cached now
    counter = sandbox_faults.arm("latency", seconds=0, persistent=True)
    query = {"assigned_to": user.user_id, "order": "newest"}
    for _ in range(2):
        html = coordinator_client.get(reverse("home"), query).content.decode()
        assert "Assigned to Maren Quist" in html
    (armed,) = [fault for fault in sandbox_faults.armed() if fault["id"] == counter["id"]]
    assert armed["applied"] == 3  # two lists and one user look-up, then cached
