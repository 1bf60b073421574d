"""Reading settings the way a new server process would: in a fresh interpreter with a chosen
environment, since `viewer_admin.settings` reads the environment once, at import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def settings_output(
    expression: str, *, cleared: Iterable[str] = (), check: bool = True, **env: str
) -> str:
    """What `print(<expression>)` shows after `from django.conf import settings`, in a new
    process whose environment drops `cleared` (and DJANGO_ENV) and adds `env`. With
    `check=False` a failing import gives the last line of its error instead."""
    dropped = {"DJANGO_ENV", *cleared}
    base = {key: value for key, value in os.environ.items() if key not in dropped}
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", f"from django.conf import settings; print({expression})"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "viewer_admin.settings", **env},
        capture_output=True,
        text=True,
        check=check,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]
