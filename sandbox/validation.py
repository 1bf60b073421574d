"""Request parsing and validation: every rule of the contract, with field-level details.

Bodies (§2.1, §14 "Requests"): a JSON object sent as `application/json`, at most 1 MiB; unknown
keys are ignored, wrong types, bad enum values and `null` for non-nullable fields are a 400
`validation_error` naming the field (§12.24). Query strings (§2.2, §2.3, §12.5-12.8): standard
form decoding, lowercase booleans, `limit` as `20` or `20.0`, the literal `null` for the nullable
reference filters, unknown parameters ignored.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.http import HttpRequest, QueryDict

from sandbox.enums import INVITED_SOURCES, SEVERITIES, STUDY_VIEWER_STATUSES, USER_LEVELS
from sandbox.errors import (
    FieldError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

MAX_BODY_BYTES: Final = 1024 * 1024
DEFAULT_LIMIT: Final = 20  # §12.5
MAX_LIMIT: Final = 100
MAX_OFFSET: Final = 1_000_000_000
MAX_METADATA_PAIRS: Final = 50  # §3
MAX_METADATA_KEY: Final = 100
MAX_METADATA_VALUE: Final = 1000
MAX_DESCRIPTION: Final = 1000  # §12.22
MAX_DICOM_UID: Final = 64  # §3

ID_PREFIXES: Final = {"study": "stu", "user": "usr", "customer": "cus"}
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")
_UID_COMPONENT = re.compile(r"0|[1-9][0-9]*")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}(?:\.[0-9]{0,12})?")


class _Missing:
    """The marker for "key absent", kept apart from an explicit JSON `null` (§2.1)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


# --- Formats (§3) ----------------------------------------------------------------------------


def is_dicom_uid(value: str) -> bool:
    """The DICOM UID rule of §3: at most 64 characters, digit components separated by single
    dots, no empty component, no leading zero unless the component is exactly "0"."""
    if not 0 < len(value) <= MAX_DICOM_UID:
        return False
    return all(_UID_COMPONENT.fullmatch(part) for part in value.split("."))


def normalize_id(value: str, prefix: str) -> str | None:
    """The ID in canonical (lowercase hex) form if it matches `^<prefix>_[0-9a-fA-F]{32}$` (§3),
    otherwise None."""
    head, sep, tail = value.partition("_")
    if head != prefix or not sep or not _HEX32.fullmatch(tail):
        return None
    return f"{prefix}_{tail.lower()}"


def path_id(value: str, kind: str, field: str) -> str:
    """A `stu_`/`usr_`/`cus_` ID from the URL path. A malformed one is a 400 naming the
    parameter (§12.24); a well-formed one that matches nothing is a 404 (by the caller)."""
    normalized = normalize_id(value, ID_PREFIXES[kind])
    if normalized is None:
        message = f"must be {ID_PREFIXES[kind]}_ followed by 32 hex characters"
        raise ValidationFailed(f"{field} {message}.", [FieldError(field, message)])
    return normalized


def path_uid(value: str) -> str:
    """A Study Instance UID from the URL path (§6.8). A malformed one is a 400."""
    if not is_dicom_uid(value):
        raise ValidationFailed(
            "studyInstanceUid is not a valid DICOM UID.",
            [FieldError("studyInstanceUid", _UID_RULE)],
        )
    return value


_UID_RULE = (
    "must be a valid DICOM UID: at most 64 characters, digits in components separated by "
    "single dots, no empty component and no leading zero in a component"
)


def _shorten(value: str, size: int = 60) -> str:
    return value if len(value) <= size else value[: size - 1] + "…"


# --- Field errors ----------------------------------------------------------------------------


class Errors:
    """Collects field errors so one 400 reports every problem of a request at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field, message))

    def raise_if_any(self) -> None:
        if self.items:
            summary = "; ".join(f"{item.field} {item.message}" for item in self.items)
            raise ValidationFailed(f"The request is invalid: {summary}.", self.items)


def _text_problem(value: str, *, max_length: int, allow_blank: bool = False) -> str | None:
    """Why a string value is unacceptable, or None. Rejects what a database cannot store."""
    if not allow_blank and not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _enum_message(values: Iterable[str]) -> str:
    return "must be one of: " + ", ".join(values)


def _check_enum(value: Any, field: str, values: tuple[str, ...], errors: Errors) -> str | None:
    if isinstance(value, str) and value in values:
        return value
    errors.add(field, _enum_message(values))
    return None


def _check_description(value: Any, field: str, errors: Errors) -> str | None:
    """`studyDescription`: a string of 1-1000 characters, not only whitespace (§12.22)."""
    if not isinstance(value, str):
        errors.add(field, f"must be a string, not {_type_name(value)}")
        return None
    problem = _text_problem(value, max_length=MAX_DESCRIPTION)
    if problem:
        errors.add(field, problem)
        return None
    return value


def _check_uid(value: Any, field: str, errors: Errors) -> str | None:
    if not isinstance(value, str):
        errors.add(field, f"must be a string, not {_type_name(value)}")
        return None
    if not is_dicom_uid(value):
        errors.add(field, _UID_RULE)
        return None
    return value


def _check_id(value: Any, field: str, kind: str, errors: Errors) -> str | None:
    prefix = ID_PREFIXES[kind]
    if not isinstance(value, str):
        errors.add(field, f"must be a string, not {_type_name(value)}")
        return None
    normalized = normalize_id(value, prefix)
    if normalized is None:
        errors.add(field, f"must be {prefix}_ followed by 32 hex characters")
    return normalized


def check_metadata(value: Any, field: str, errors: Errors) -> dict[str, str] | None:
    """Metadata (§3): an object of at most 50 pairs, keys 1-100 characters, string values of at
    most 1000 characters. One message per field: the first problem found."""
    if not isinstance(value, dict):
        errors.add(field, f"must be an object of string values, not {_type_name(value)}")
        return None
    if len(value) > MAX_METADATA_PAIRS:
        errors.add(field, f"must have at most {MAX_METADATA_PAIRS} pairs, not {len(value)}")
        return None
    for key, item in value.items():
        label = _shorten(key, 40)
        if key == "":
            errors.add(field, "keys must not be empty")
            return None
        problem = _text_problem(key, max_length=MAX_METADATA_KEY, allow_blank=True)
        if problem:
            errors.add(field, f"key {label!r} {problem}")
            return None
        if not isinstance(item, str):
            errors.add(field, f"value of {label!r} must be a string, not {_type_name(item)}")
            return None
        problem = _text_problem(item, max_length=MAX_METADATA_VALUE, allow_blank=True)
        if problem:
            errors.add(field, f"value of {label!r} {problem}")
            return None
    return dict(value)


# --- Bodies ----------------------------------------------------------------------------------


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object (§14 "Requests").

    Larger than 1 MiB → 413; a non-empty body that is not sent as JSON → 415; an empty body, bad
    UTF-8, malformed JSON (NaN and Infinity included) or a JSON value that is not an object → 400.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body must be at most {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise ValidationFailed("The request body must be a JSON object; it is empty.")
    content_type = request.META.get("CONTENT_TYPE", "")
    if not _is_json_media_type(content_type):
        raise UnsupportedMediaType(
            "The request body must be sent with Content-Type: application/json."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The request body is not valid UTF-8.") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column "
            f"{exc.colno})."
        ) from None
    except (ValueError, RecursionError):
        raise ValidationFailed("The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ValidationFailed(f"The request body must be a JSON object, not {_type_name(value)}.")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True)
class StudyCreate:
    """A validated create-study body (§6.1)."""

    severity: str
    study_description: str
    study_instance_uid: str
    assigned_to: str | None
    express_customer_id: str | None
    metadata: dict[str, str]


def parse_study_create(body: dict[str, Any]) -> StudyCreate:
    """§6.1: `severity`, `studyDescription` and `studyInstanceUid` are required; `assignedTo`
    may be null ("unassigned", §12.10); `expressCustomerId` and `metadata` may be left out but
    not null (§12.24)."""
    errors = Errors()
    values: dict[str, Any] = {}
    for field in ("severity", "studyDescription", "studyInstanceUid"):
        value = body.get(field, MISSING)
        if value is MISSING:
            errors.add(field, "is required")
        elif value is None:
            errors.add(field, "must not be null")
        else:
            values[field] = value
    severity = (
        _check_enum(values["severity"], "severity", SEVERITIES, errors)
        if "severity" in values
        else None
    )
    description = (
        _check_description(values["studyDescription"], "studyDescription", errors)
        if "studyDescription" in values
        else None
    )
    uid = (
        _check_uid(values["studyInstanceUid"], "studyInstanceUid", errors)
        if "studyInstanceUid" in values
        else None
    )

    assigned_to: str | None = None
    raw_assignee = body.get("assignedTo", MISSING)
    if raw_assignee is not MISSING and raw_assignee is not None:
        assigned_to = _check_id(raw_assignee, "assignedTo", "user", errors)

    customer_id: str | None = None
    raw_customer = body.get("expressCustomerId", MISSING)
    if raw_customer is None:
        errors.add("expressCustomerId", "must not be null; leave it out for no customer")
    elif raw_customer is not MISSING:
        customer_id = _check_id(raw_customer, "expressCustomerId", "customer", errors)

    metadata: dict[str, str] | None = {}
    raw_metadata = body.get("metadata", MISSING)
    if raw_metadata is None:
        errors.add("metadata", "must not be null; leave it out for no metadata")
    elif raw_metadata is not MISSING:
        metadata = check_metadata(raw_metadata, "metadata", errors)

    errors.raise_if_any()
    if severity is None or description is None or uid is None:  # pragma: no cover - see above
        raise ValidationFailed("The request is invalid.")
    return StudyCreate(
        severity=severity,
        study_description=description,
        study_instance_uid=uid,
        assigned_to=assigned_to,
        express_customer_id=customer_id,
        metadata=metadata or {},
    )


@dataclass(frozen=True)
class StudyChanges:
    """A validated study PATCH body (§6.3). None means "unchanged", except for the assignee,
    where `set_assignee` says whether `assigned_to` (an ID, or None to unassign) applies."""

    severity: str | None = None
    study_description: str | None = None
    study_viewer_status: str | None = None
    metadata: dict[str, str] | None = None
    set_assignee: bool = False
    assigned_to: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.set_assignee and all(
            value is None
            for value in (
                self.severity,
                self.study_description,
                self.study_viewer_status,
                self.metadata,
            )
        )


def parse_study_changes(body: dict[str, Any]) -> StudyChanges:
    """§6.3 and §12.11/§12.25: absent keys stay unchanged; `assignedTo: null` unassigns;
    `metadata` replaces the whole map and `null` clears it to `{}`; `severity`,
    `studyDescription` and `studyViewerStatus` must not be null. `{}` is a valid body."""
    errors = Errors()
    changes: dict[str, Any] = {}

    for field, attribute, values in (
        ("severity", "severity", SEVERITIES),
        ("studyViewerStatus", "study_viewer_status", STUDY_VIEWER_STATUSES),
    ):
        value = body.get(field, MISSING)
        if value is None:
            errors.add(field, "must not be null")
        elif value is not MISSING:
            changes[attribute] = _check_enum(value, field, values, errors)

    description = body.get("studyDescription", MISSING)
    if description is None:
        errors.add("studyDescription", "must not be null")
    elif description is not MISSING:
        changes["study_description"] = _check_description(description, "studyDescription", errors)

    metadata = body.get("metadata", MISSING)
    if metadata is None:
        changes["metadata"] = {}
    elif metadata is not MISSING:
        changes["metadata"] = check_metadata(metadata, "metadata", errors)

    assignee = body.get("assignedTo", MISSING)
    if assignee is not MISSING:
        changes["set_assignee"] = True
        changes["assigned_to"] = (
            None if assignee is None else _check_id(assignee, "assignedTo", "user", errors)
        )

    errors.raise_if_any()
    return StudyChanges(**changes)


@dataclass(frozen=True)
class StudyLocator:
    """How cancel, uncancel and reroute-url name a study (§6.5-6.7, §12.12)."""

    study_id: str | None
    study_instance_uid: str | None


def parse_study_locator(body: dict[str, Any]) -> StudyLocator:
    """Either `studyId` or `studyInstanceUid`, or both; neither is a 400 (§12.12)."""
    errors = Errors()
    study_id: str | None = None
    uid: str | None = None
    raw_id = body.get("studyId", MISSING)
    raw_uid = body.get("studyInstanceUid", MISSING)
    if raw_id is None:
        errors.add("studyId", "must not be null")
    elif raw_id is not MISSING:
        study_id = _check_id(raw_id, "studyId", "study", errors)
    if raw_uid is None:
        errors.add("studyInstanceUid", "must not be null")
    elif raw_uid is not MISSING:
        uid = _check_uid(raw_uid, "studyInstanceUid", errors)
    if raw_id is MISSING and raw_uid is MISSING:
        errors.add("studyId", "or studyInstanceUid is required to identify the study")
    errors.raise_if_any()
    return StudyLocator(study_id=study_id, study_instance_uid=uid)


# --- Query strings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """`limit` and the decoded `cursor` offset of a list request (§5, §12.5, §12.6)."""

    limit: int
    offset: int


def encode_cursor(offset: int) -> str:
    """Standard padded Base64 of the compact JSON `{"offset":N}` (§12.6)."""
    return base64.b64encode(json.dumps({"offset": offset}, separators=(",", ":")).encode()).decode()


def parse_page(query: QueryDict) -> PageRequest:
    """`limit`: a whole number 1-100, written `20` or `20.0`, default 20 (§12.5). `cursor`:
    padded Base64 of `{"offset":N}`; anything else is a 400 (§12.6)."""
    errors = Errors()
    limit = DEFAULT_LIMIT
    raw_limit = query.get("limit")
    if raw_limit is not None:
        parsed = _parse_whole_number(raw_limit)
        if parsed is None or not 1 <= parsed <= MAX_LIMIT:
            errors.add("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
        else:
            limit = parsed
    offset = 0
    raw_cursor = query.get("cursor")
    if raw_cursor is not None:
        decoded = _decode_cursor(raw_cursor)
        if decoded is None:
            errors.add("cursor", "is not a cursor returned by this API")
        else:
            offset = decoded
    errors.raise_if_any()
    return PageRequest(limit=limit, offset=offset)


def _parse_whole_number(raw: str) -> int | None:
    if not _WHOLE_NUMBER.fullmatch(raw):
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        return None
    if number != number.to_integral_value():
        return None
    return int(number)


def _decode_cursor(raw: str) -> int | None:
    try:
        encoded = raw.encode("ascii")
        decoded = base64.b64decode(encoded, validate=True)
        if base64.b64encode(decoded) != encoded:  # only the canonical, padded form
            return None
        data = json.loads(decoded)
    except (UnicodeError, binascii.Error, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or set(data) != {"offset"}:
        return None
    offset: object = data["offset"]
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        return None
    return offset


@dataclass(frozen=True)
class RefFilter:
    """A nullable reference filter (§2.3): `value` is an ID, or None for "field is null"."""

    value: str | None


@dataclass(frozen=True)
class StudyFilters:
    """The filters of §6.4. None means "no filter" for every attribute."""

    assigned_to: RefFilter | None = None
    express_customer_id: RefFilter | None = None
    is_cancelled: bool | None = None
    severity: str | None = None
    study_viewer_status: str | None = None
    study_description: str | None = None


def _ref_filter(query: QueryDict, field: str, kind: str, errors: Errors) -> RefFilter | None:
    """§2.3/§12.7: the literal `null` means "field is null"; an empty value is a 400; a
    well-formed ID that matches nothing simply gives an empty list."""
    raw = query.get(field)
    if raw is None:
        return None
    if raw == "null":
        return RefFilter(None)
    if raw == "":
        errors.add(field, "must be an ID or null, not empty")
        return None
    normalized = normalize_id(raw, ID_PREFIXES[kind])
    if normalized is None:
        errors.add(field, f"must be {ID_PREFIXES[kind]}_ followed by 32 hex characters, or null")
        return None
    return RefFilter(normalized)


def _enum_filter(
    query: QueryDict, field: str, values: tuple[str, ...], errors: Errors
) -> str | None:
    raw = query.get(field)
    if raw is None:
        return None
    if raw not in values:
        errors.add(field, _enum_message(values))
        return None
    return raw


def _bool_filter(query: QueryDict, field: str, errors: Errors) -> bool | None:
    """Lowercase `true`/`false` (§2.2); `null` means no filter and empty is a 400 (§12.7)."""
    raw = query.get(field)
    if raw is None or raw == "null":
        return None
    if raw == "true":
        return True
    if raw == "false":
        return False
    errors.add(field, "must be true, false or null")
    return None


def _text_filter(query: QueryDict, field: str, errors: Errors) -> str | None:
    raw = query.get(field)
    if not raw:
        return None
    problem = _text_problem(raw, max_length=1000, allow_blank=True)
    if problem:
        errors.add(field, problem)
        return None
    return raw


def parse_study_filters(query: QueryDict) -> StudyFilters:
    """§6.4 with §12.7/§12.8: absent `isCancelled` lists cancelled and active studies alike;
    `studyDescription` is a case-insensitive substring match."""
    errors = Errors()
    filters = StudyFilters(
        assigned_to=_ref_filter(query, "assignedTo", "user", errors),
        express_customer_id=_ref_filter(query, "expressCustomerId", "customer", errors),
        is_cancelled=_bool_filter(query, "isCancelled", errors),
        severity=_enum_filter(query, "severity", SEVERITIES, errors),
        study_viewer_status=_enum_filter(query, "studyViewerStatus", STUDY_VIEWER_STATUSES, errors),
        study_description=_text_filter(query, "studyDescription", errors),
    )
    errors.raise_if_any()
    return filters


@dataclass(frozen=True)
class UserFilters:
    """The filters of §7.3. None means "no filter"."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    invited_source: str | None = None
    level: str | None = None


def parse_user_filters(query: QueryDict) -> UserFilters:
    """§7.3 with §12.8: `email` is an exact and `firstName`/`lastName` a substring match, all
    case-insensitive; `level` may be `owner`."""
    errors = Errors()
    filters = UserFilters(
        email=_text_filter(query, "email", errors),
        first_name=_text_filter(query, "firstName", errors),
        last_name=_text_filter(query, "lastName", errors),
        invited_source=_enum_filter(query, "invitedSource", INVITED_SOURCES, errors),
        level=_enum_filter(query, "level", USER_LEVELS, errors),
    )
    errors.raise_if_any()
    return filters
