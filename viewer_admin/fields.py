"""Model fields shared by the project's apps."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg.types.json import Json


class OrderedJSONField(models.JSONField):
    """A JSONField that gives an object back with its keys in the order they were stored.

    On PostgreSQL a JSONField is a `jsonb` column, which sorts an object's keys; a study's
    metadata would come back in another order than the coordinator typed it. This field uses a
    `json` column there, which keeps the text as written (SQLite stores text anyway). The price:
    PostgreSQL cannot compare or index `json`, so use it for values stored and read whole —
    no `field__key` filters, `contains` lookups, DISTINCT or GROUP BY on it.
    """

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        if connection.vendor != "postgresql":
            return super().get_db_prep_value(value, connection, prepared)
        if not prepared:
            value = self.get_prep_value(value)
        # Django adapts JSONField values as jsonb, which would sort the keys before the cast
        # to the column's json type; send json text as is.
        return Json(value, dumps=self._dumps)

    def _dumps(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if connection.vendor == "postgresql":
            # psycopg decodes `json` columns itself (Django only registers a text loader for
            # jsonb), keeping the keys in their stored order.
            return value
        return super().from_db_value(value, expression, connection)
