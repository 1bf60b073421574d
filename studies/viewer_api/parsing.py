"""Reading an answer into a response model (§13). An answer that does not fit is a
`BadResponse`; the log names only where it broke, never a value."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from studies.viewer_api.exceptions import BadResponse, OutcomeUnknown
from studies.viewer_api.transport import logger

Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        logger.warning(
            "viewer_api unexpected response shape: %s",
            ", ".join(sorted({_safe_location(e["loc"]) for e in exc.errors()})),
        )
        raise BadResponse() from None


def parse_mutation(model: type[Model], data: Any) -> Model:
    """`parse` for the answer to a mutating call: a 2xx answer that does not fit says the call
    went through, but not what it did, so the outcome is unknown (the caller reads back)."""
    try:
        return parse(model, data)
    except BadResponse:
        raise OutcomeUnknown() from None


def _safe_location(loc: tuple[int | str, ...]) -> str:
    """Where a response broke the model, for the log: field names and list indexes only (a
    metadata key is data, so the path stops at `metadata`)."""
    parts: list[str] = []
    for part in loc:
        parts.append(str(part))
        if part == "metadata":
            break
    return ".".join(parts)
