"""Express customers (§10): one list page, and every customer (a clinic has few), cached."""

from __future__ import annotations

from typing import Final

from pydantic import TypeAdapter

from studies.viewer_api.cache import cached
from studies.viewer_api.pagination import fetch_page, walk
from studies.viewer_api.params import CustomerFilters
from studies.viewer_api.responses import ExpressCustomer, Page
from studies.viewer_api.rules import LIST_LIMIT_MAX

_CUSTOMERS: Final = TypeAdapter(list[ExpressCustomer])


def customer_list(
    *, filters: CustomerFilters | None = None, cursor: str | None = None
) -> Page[ExpressCustomer]:
    page = Page[ExpressCustomer]
    return fetch_page("/v1/express", "expressCustomers", page, filters or CustomerFilters(), cursor)


def customers_all() -> list[ExpressCustomer]:
    """Every Express customer (a clinic has few), cached briefly."""

    def load() -> list[ExpressCustomer]:
        filters = CustomerFilters(limit=LIST_LIMIT_MAX)
        pages = walk(lambda cursor: customer_list(filters=filters, cursor=cursor))
        return [customer for page in pages for customer in page.items]

    return cached("customers:all", load, _CUSTOMERS)


def customers_active() -> list[ExpressCustomer]:
    return [customer for customer in customers_all() if customer.is_active]
