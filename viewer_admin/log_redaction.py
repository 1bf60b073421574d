"""Keep patient and user identifiers out of every log line the project writes.

Study Instance UIDs, names, emails, descriptions and metadata values reach the server in URL
paths (`/studies/by-uid/<uid>/`) and query strings (`?q=…`, `?assignee_query=…`). Whatever
logs a request therefore logs its path as the route template it matched
(`/studies/by-uid/{study_instance_uid}/`) and its query string as its keys only (`?q&cursor`).

- `redact_target()` turns a request target (path and query, or a whole URL) into that form.
- `RedactIdentifiers` is a logging filter for every handler of `settings.LOGGING`: it rewrites
  Django's request lines (`django.request`'s "Not Found: /…", CSRF refusals, the development
  server's request lines) and, as a last resort, any DICOM-UID-like or email-like text.
- `viewer_admin.gunicorn_logging` applies the same rules to gunicorn's access and error logs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

from django.http import HttpRequest

UNMATCHED = "/{unmatched}"
# Query-string keys are our own form field names; anything else is logged as "{key}".
_SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,40}$")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_REGEX_REST = re.compile(r"\(.*\)\??|\.\*|\.\+")
# A request line inside free text: "GET /path?query HTTP/1.1", with or without the protocol.
_METHODS = "GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|CONNECT|TRACE"
_REQUEST_IN_TEXT = re.compile(rf"\b(?P<method>{_METHODS}) (?P<target>[^'\"]*?)(?= HTTP/\d|['\"]|$)")
# Last resort, for any line: DICOM UIDs (5 or more dotted numbers, so IPv4 addresses and
# version numbers stay) and email addresses.
_UID_LIKE = re.compile(r"(?<![\w.])\d+(?:\.\d+){4,}(?![\w.])")
_EMAIL_LIKE = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
# Loggers whose lines are request lines written by a server (ours or gunicorn).
SERVER_LOGGERS = ("django.server", "gunicorn.error", "gunicorn.access")
# A server's complaint about a malformed request quotes the raw bytes (gunicorn: "Invalid
# request from ip=…: Invalid HTTP Version: '…'"; runserver: "code 400, message Bad request
# syntax ('…')"); what was quoted is not logged.
_MALFORMED = re.compile(r"^(?:Invalid request from |code \d{3}, message )")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def route_template(path: str) -> str:
    """`/studies/by-uid/1.2.3/` → `/studies/by-uid/{study_instance_uid}/`; a path no route
    matches is `/{unmatched}` (its text could be anything a user typed)."""
    from django.conf import settings
    from django.urls import Resolver404, get_urlconf, resolve

    static = "/" + str(getattr(settings, "STATIC_URL", "static/")).strip("/") + "/"
    if path.startswith(static):
        return static + "{path}"
    # Every request is logged, mostly on a few paths: each path's route is worked out once (the
    # URL resolver is what made a log line cost).
    key = (path, str(get_urlconf() or settings.ROOT_URLCONF))
    known = _ROUTES.get(key)
    if known is not None:
        return known
    try:
        match = resolve(path)
    except Resolver404:
        route = UNMATCHED
    except Exception:  # noqa: BLE001 - Django not set up (gunicorn's master): not kept
        return UNMATCHED
    else:
        route = _CONVERTER.sub(r"{\1}", match.route or "")
        route = route.replace("^", "").replace("$", "")
        route = "/" + _REGEX_REST.sub("{path}", _NAMED_GROUP.sub(r"{\1}", route))
    if len(_ROUTES) >= _ROUTES_MAX:
        _ROUTES.clear()
    _ROUTES[key] = route
    return route


_ROUTES: dict[tuple[str, str], str] = {}
_ROUTES_MAX = 2_000


def query_keys(query: str) -> str:
    """`q=Smith&cursor=abc` → `q&cursor` (each key once, unknown-looking keys as `{key}`)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    keys = (key if _SAFE_KEY.fullmatch(key) else "{key}" for key, _ in pairs)
    return "&".join(dict.fromkeys(keys))


def redact_target(target: str) -> str:
    """A request target or URL as it may be logged: the route template and the query's keys.
    The scheme and host of a whole URL (a Referer) stay."""
    if not target or target == "-":
        return target
    parts = urlsplit(target)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    if not parts.path.startswith("/"):
        return origin + (UNMATCHED if parts.path or parts.query else "")
    keys = query_keys(parts.query)
    return origin + route_template(parts.path) + (f"?{keys}" if keys else "")


def redact_request_line(line: str) -> str:
    """`GET /?q=Smith HTTP/1.1` → `GET /?q HTTP/1.1`."""
    method, _, rest = line.partition(" ")
    target, space, protocol = rest.rpartition(" ")
    if not space or not protocol.startswith("HTTP/"):
        target, protocol = rest, ""
    return " ".join(part for part in (method, redact_target(target.replace(" ", "%20")), protocol))


def redact_requests_in_text(text: str) -> str:
    """Every "METHOD target" in free text (a server's error line) with its target redacted."""

    def replace(match: re.Match[str]) -> str:
        target = match.group("target").replace(" ", "%20")
        return f"{match.group('method')} {redact_target(target)}"

    return _REQUEST_IN_TEXT.sub(replace, text)


def redact_identifier_like(text: str) -> str:
    """The last resort for any line: UID-like and email-like text replaced."""
    return _EMAIL_LIKE.sub("{email}", _UID_LIKE.sub("{uid}", text))


def _replace_all(text: str, replacements: Iterable[tuple[str, str]]) -> str:
    mapping = {old: new for old, new in replacements if old}
    if not mapping:
        return text
    pattern = "|".join(re.escape(old) for old in sorted(mapping, key=len, reverse=True))
    return re.sub(pattern, lambda match: mapping[match.group(0)], text)


class RedactIdentifiers(logging.Filter):
    """Rewrites a record's message so that it carries no identifier (see the module's
    docstring). It never drops a record. A traceback gets the last-resort rule only (UID-like
    and email-like text): exception messages are not parsed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is the logging module's to report
            return True
        redacted = self.redact(record, message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set.
            traceback = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_identifier_like(traceback)
        return True

    @staticmethod
    def redact(record: logging.LogRecord, message: str) -> str:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            # django.request and django.security: "Not Found: /studies/by-uid/1.2.3/" etc.
            full_path = request.get_full_path()
            message = _replace_all(
                message,
                [
                    (full_path, redact_target(full_path)),
                    (request.path, route_template(request.path)),
                ],
            )
        if record.name in SERVER_LOGGERS:
            if record.name == "django.server" and message.startswith('"'):
                line, quote, rest = message[1:].partition('"')
                message = '"' + redact_request_line(line) + quote + rest if quote else message
            elif _MALFORMED.match(message):
                message = _QUOTED.sub("'{withheld}'", message)
            else:
                message = redact_requests_in_text(message)
        return redact_identifier_like(message)
