"""`manage.py import_worker`: the tasks framework's `db_worker`, which first resumes imports
whose worker died (see `imports.services.import_resume_abandoned`). Same options, but it looks
for new tasks every POLL_SECONDS when idle (db_worker: every second), so that an import the
coordinator sends starts at once; that look is one small indexed query."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any, Final

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from imports.services import import_resume_abandoned

POLL_SECONDS: Final = 0.2


class Command(DbWorkerCommand):
    help = "Run a database task worker; first resume study imports whose worker died."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(interval=POLL_SECONDS)

    def handle(self, *args: Any, **options: Any) -> None:
        resumed = import_resume_abandoned()
        if resumed:
            self.stdout.write(f"Resumed {len(resumed)} import(s) whose worker had stopped.")
        super().handle(*args, **options)
