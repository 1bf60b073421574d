"""The one in-process fake of the Viewer API, and the JSON factories every test shares.

Tests of the client and of the views that need what the sandbox cannot do over HTTP (an exact
sequence of answers, a malformed body, a counted wait, a request inspected on the wire) install
`FakeAPI` as the process-wide client (the `fake_api` fixture in tests/conftest.py). Everything
else goes through the sandbox (`sandbox_url`, `sandbox_factory`).

`FakeAPI` answers each request with, in this order: the next queued reply (`queue`), the reply
routed for its method and path (`route`), the lists and objects it serves (`studies`, `users`,
`customers`, paged by offset cursors), or the fallback `answer`; anything else fails the test.
It records every request and every wait, and never sleeps.

The JSON factories return the API's wire shapes (camelCase, §4.3); keyword overrides use the
wire's keys, e.g. `study_json(severity="high", assignedTo=None)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from studies import viewer_api

BASE_URL = "https://viewer.test/prefix"
API_KEY = "sk_live_do-not-log-0123456789abcdef"
STUDY_ID = "stu_" + "a1" * 16
USER_ID = "usr_" + "b2" * 16
OTHER_USER_ID = "usr_" + "c3" * 16
CUSTOMER_ID = "cus_" + "d4" * 16
UID = "1.2.840.113619.2.55.3.604688119.868.1234567890.123"
DESCRIPTION = "Brain MRI left temporal lesion"
METADATA_VALUE = "MRN-00421337"
METADATA = {"ward": METADATA_VALUE}
TIMESTAMP = "2025-01-30T12:51:12.936Z"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

# --- JSON factories ------------------------------------------------------------------------------


def user_ref_json(user_id: str = USER_ID, first: str = "Dana", last: str = "Lee", **extra: Any):
    """A user as a study names it (§4.3 UserRef)."""
    return {
        "userId": user_id,
        "email": f"{first.lower()}.{last.lower()}@clinic.example",
        "firstName": first,
        "lastName": last,
        **extra,
    }


def customer_ref_json(customer_id: str = CUSTOMER_ID, name: str = "Acme") -> dict[str, Any]:
    return {"expressCustomerId": customer_id, "expressCustomerName": name}


def study_json(**overrides: Any) -> dict[str, Any]:
    """A STAT study assigned to Dana Lee, MD, with METADATA, no customer, made by an API key."""
    return {
        "studyId": STUDY_ID,
        "studyInstanceUid": UID,
        "studyDescription": DESCRIPTION,
        "severity": "stat",
        "studyViewerStatus": "incomplete",
        "isCancelled": False,
        "cancelledAt": None,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "assignedTo": user_ref_json(middleName=None, suffix1="MD", suffix2=None),
        "createdByApiKey": {
            "apiKeyId": "6f1c1b5e-8a9d-4f7e-9a51-3c2b1d0e9f88",
            "description": "Viewer Admin",
            "isViewerEnabled": True,
            "isClinicalContextEnrichmentEnabled": False,
        },
        "createdByUser": None,
        "expressCustomer": None,
        "metadata": dict(METADATA),
        **overrides,
    }


def user_json(user_id: str = USER_ID, first: str = "Dana", last: str = "Lee", **extra: Any):
    """A Viewer user (member radiologist)."""
    return {
        **user_ref_json(user_id, first, last),
        "level": "member",
        "clinicRole": "Radiologist",
        "canManageStudies": True,
        "hasDashboardAccess": False,
        "invitedSource": "api",
        "createdAt": TIMESTAMP,
        "lastLoginAt": None,
        **extra,
    }


def customer_json(customer_id: str = CUSTOMER_ID, *, active: bool = True, name: str = "Acme"):
    """An Express customer."""
    return {
        **customer_ref_json(customer_id, name),
        "isActive": active,
        "userCount": 2,
        "createdAt": TIMESTAMP,
        "updatedAt": None,
        "createdByApiKeyId": None,
        "createdByUserId": None,
        "metadata": {},
    }


def page_json(key: str, items: list[Any], cursor: str | None = None, has_more: bool = False):
    """A list envelope (§5)."""
    return {key: items, "cursor": cursor, "hasMore": has_more}


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error(
    status: int, code: str = "error", message: str = "Nope.", details: Any = None, **headers: str
) -> httpx.Response:
    """An error answer in the API's shape (§3)."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return httpx.Response(status, json=body, headers=headers)


# --- Reading what was sent ------------------------------------------------------------------------


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode(), keep_blank_values=True))


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


# --- The fake -------------------------------------------------------------------------------------

# The lists `FakeAPI` serves: path -> (envelope key, attribute).
_LISTS = {
    "/v1/viewer/studies": ("studies", "studies"),
    "/v1/viewer/users": ("users", "users"),
    "/v1/express": ("expressCustomers", "customers"),
}


class FakeAPI:
    """The Viewer API in process, on an httpx.MockTransport (see the module docstring)."""

    def __init__(
        self,
        base_url: str = BASE_URL,
        answer: Callable[[httpx.Request], httpx.Response] | None = None,
    ) -> None:
        self.base_url = base_url
        self.answer = answer
        self.replies: list[Reply] = []
        self.routes: dict[tuple[str, str], Reply] = {}
        self.studies: list[dict[str, Any]] | None = None
        self.users: list[dict[str, Any]] | None = None
        self.customers: list[dict[str, Any]] | None = None
        self.page_size: int | None = None  # None: the request's `limit`
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    # Setting up answers.

    def queue(self, *replies: Reply) -> FakeAPI:
        self.replies.extend(replies)
        return self

    def route(self, method: str, path: str, reply: Reply) -> FakeAPI:
        """Answer every `method path` (path after the base URL, e.g. "/v1/express") so."""
        self.routes[(method, path)] = reply
        return self

    def client(self, *, api_key: str = API_KEY) -> viewer_api.ViewerAPI:
        return viewer_api.ViewerAPI(
            base_url=self.base_url,
            api_key=api_key,
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleep,
        )

    # Reading what happened.

    def path(self, request: httpx.Request) -> str:
        """The request's path after the base URL's own path."""
        return request.url.path.removeprefix(urlsplit(self.base_url).path.rstrip("/"))

    def methods(self) -> list[str]:
        return [request.method for request in self.requests]

    def count(self, method: str, path_end: str = "") -> int:
        return sum(
            1
            for request in self.requests
            if request.method == method and request.url.path.endswith(path_end)
        )

    def queries(self, path: str) -> list[dict[str, str]]:
        """The query of every request to `path`, in order."""
        return [query_of(r) for r in self.requests if self.path(r) == path]

    # The transport's side.

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else self._served(request)
        if isinstance(reply, httpx.Response):
            return reply
        if isinstance(reply, httpx.RequestError):
            reply.request = request
            raise reply
        if isinstance(reply, Exception):
            raise reply
        return reply(request)

    def _served(self, request: httpx.Request) -> Reply:
        path = self.path(request)
        routed = self.routes.get((request.method, path))
        if routed is not None:
            return routed
        if request.method == "GET":
            served = self._get(path, query_of(request))
            if served is not None:
                return served
        if self.answer is not None:
            return self.answer
        raise AssertionError(f"unexpected request: {request.method} {request.url.path}")

    def _get(self, path: str, query: dict[str, str]) -> httpx.Response | None:
        if path in _LISTS:
            key, attribute = _LISTS[path]
            items = getattr(self, attribute)
            if items is None:
                return None
            size = self.page_size or int(query.get("limit", 20))
            offset = int(query.get("cursor") or 0)
            more = offset + size < len(items)
            cursor = str(offset + size) if more else None
            return ok(page_json(key, items[offset : offset + size], cursor, more))
        head, _, tail = path.rpartition("/")
        by_id = {
            "/v1/viewer/users": (self.users, "userId"),
            "/v1/viewer/studies": (self.studies, "studyId"),
            "/v1/viewer/studies/by-uid": (self.studies, "studyInstanceUid"),
        }
        items, field = by_id.get(head, (None, ""))
        if items is None:
            return None
        found = [item for item in items if item[field] == unquote(tail)]
        return ok(found[0]) if found else error(404, "not_found", "Not found.")
