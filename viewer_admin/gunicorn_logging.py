"""gunicorn's logger, with no identifier in its access or error lines.

Named by `viewer_admin/gunicorn_conf.py` (`logger_class`). Every atom of the access-log format
that carries a URL (the request line `%(r)s`, `%(U)s`, `%(q)s`, the Referer `%(f)s`, and the
`{referer}i`, `{location}o` and URL-bearing `{…}e` variants) is reduced to its route template
and query keys (`viewer_admin.log_redaction`); cookies and credentials are never logged. The
error log ("Error handling request GET /…", "Invalid request from ip=…: …") goes through the
same filter as the app's own log lines.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from viewer_admin.log_redaction import (
    RedactIdentifiers,
    query_keys,
    redact_request_line,
    redact_target,
)

# Atoms that hold a URL, a request target or a whole request line.
_URL_ATOMS = ("U", "f", "{referer}i", "{location}o", "{http_referer}e")
_TARGET_ENVIRON = ("{raw_uri}e", "{path_info}e", "{request_uri}e")
_QUERY_ATOMS = ("q", "{query_string}e")
# Headers and environ values that are credentials.
_SECRET_ATOMS = ("{cookie}i", "{authorization}i", "{set-cookie}o", "{http_cookie}e")
_SECRET_ENVIRON = ("{http_authorization}e",)


class RedactingLogger(Logger):
    """gunicorn's `Logger` with redacted access-log atoms and a filtered error log."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactIdentifiers) for f in log.filters):
                log.addFilter(RedactIdentifiers())

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["r"] = redact_request_line(str(atoms.get("r") or ""))
        for key in (*_URL_ATOMS, *_TARGET_ENVIRON):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_target(atoms[key])
        for key in _QUERY_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = query_keys(atoms[key])
        for key in (*_SECRET_ATOMS, *_SECRET_ENVIRON):
            if key in atoms:
                atoms[key] = "-"
        return atoms
