"""Lists (§5): one page fetched with its filters and cursor, and every page of a list."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from studies.viewer_api.client import get_client
from studies.viewer_api.exceptions import BadResponse
from studies.viewer_api.params import Filters
from studies.viewer_api.parsing import parse
from studies.viewer_api.responses import Item, Page
from studies.viewer_api.transport import logger


def fetch_page(
    path: str, key: str, page: type[Page[Item]], filters: Filters, cursor: str | None
) -> Page[Item]:
    """One page of the list at `path`: the filters' query, plus the cursor of a later page."""
    params = filters.query()
    if cursor:
        params["cursor"] = cursor
    return parse_page(page, key, get_client().request("GET", path, params=params))


def parse_page(page: type[Page[Item]], key: str, data: Any) -> Page[Item]:
    """A list envelope (§5): the items under `key`, plus `cursor` and `hasMore`."""
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        logger.warning("viewer_api list response without %r", key)
        raise BadResponse()
    envelope = {"items": data[key], "cursor": data.get("cursor"), "has_more": data.get("hasMore")}
    return parse(page, envelope)


def walk(fetch: Callable[[str | None], Page[Item]]) -> Iterator[Page[Item]]:
    """Every page, following cursors (§5); a cursor the API hands out twice is a BadResponse
    rather than an endless loop."""
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return
        if cursor in seen:
            logger.warning("viewer_api list cursor repeated; stopping")
            raise BadResponse()
        seen.add(cursor)
