"""`manage.py import_worker`: the tasks framework's `db_worker`, which first resumes imports
whose worker died (see `imports.services.import_resume_abandoned`). Same options."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from imports.services import import_resume_abandoned


class Command(DbWorkerCommand):
    help = "Run a database task worker; first resume study imports whose worker died."

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = import_resume_abandoned()
        if resumed:
            self.stdout.write(f"Resumed {len(resumed)} import(s) whose worker had stopped.")
        super().handle(*args, **options)
