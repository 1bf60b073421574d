"""Helpers for the sandbox's own tests: Django test-client calls with the bearer key."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client

PREFIX = "/sandbox"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
STUDY_KEYS = {
    "studyId",
    "studyInstanceUid",
    "studyDescription",
    "severity",
    "studyViewerStatus",
    "isCancelled",
    "cancelledAt",
    "createdAt",
    "updatedAt",
    "assignedTo",
    "createdByApiKey",
    "createdByUser",
    "expressCustomer",
    "metadata",
}


class Api:
    """The sandbox through Django's test client, authenticated with a bearer key."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.key = key

    def _headers(self, key: str | None, headers: dict[str, str] | None) -> dict[str, str]:
        result = dict(headers or {})
        chosen = self.key if key is None else key
        if chosen:
            result.setdefault("Authorization", f"Bearer {chosen}")
        return result

    def get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self.client.get(
            PREFIX + path, query_params=params or {}, headers=self._headers(key, headers)
        )

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        return self.client.generic(
            method,
            PREFIX + path,
            data=data,
            content_type=content_type,
            headers=self._headers(key, headers),
        )

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.send("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.send("PATCH", path, body, **kwargs)


def assert_error(response: Any, status: int, code: str, *fields: str) -> dict[str, Any]:
    """The response is the §12.1 error body with this status and code, naming these fields."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    named = {detail["field"] for detail in error.get("details", [])}
    assert set(fields) <= named, (fields, error)
    return error
