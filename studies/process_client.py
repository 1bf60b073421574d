"""One client of an outside service per process: built from settings on first use, replaced
with `set` (tests install one with a fake transport), closed and rebuilt when one of the
service's settings changes (tests' `settings` fixture)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from django.core.signals import setting_changed


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class ProcessClient(Generic[C]):
    """The process-wide client that `build` makes; settings named `setting_prefix*` reset it."""

    def __init__(self, build: Callable[[], C], *, setting_prefix: str) -> None:
        self._build = build
        self._setting_prefix = setting_prefix
        self._lock = threading.Lock()
        self._client: C | None = None
        setting_changed.connect(self._reset_on_settings_change, weak=False)

    def get(self) -> C:
        """The one client of this process, built on first use."""
        with self._lock:
            if self._client is None:
                self._client = self._build()
            return self._client

    def set(self, client: C | None) -> None:
        """Replace the client (None: rebuild on next use); the one replaced is closed."""
        with self._lock:
            old, self._client = self._client, client
        if old is not None and old is not client:
            old.close()

    def _reset_on_settings_change(self, *, setting: str, **kwargs: Any) -> None:
        if setting.startswith(self._setting_prefix):
            self.set(None)
