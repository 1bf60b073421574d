"""The background task of study imports (Django's tasks framework, database backend)."""

from __future__ import annotations

from django_tasks import task

from imports.runner import run_import


@task()
def send_import(import_id: int) -> str:
    """Send an import's waiting rows (see `imports.runner`). Enqueued when the coordinator
    sends an import, and again for an import whose worker died."""
    return run_import(import_id)
