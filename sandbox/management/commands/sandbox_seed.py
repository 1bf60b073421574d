"""`manage.py sandbox_seed`: fill the sandbox with demo data (idempotent; see sandbox.seed)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.seed import DEFAULT_SEED, DEFAULT_STUDIES, DEFAULT_USERS, seed_sandbox


class Command(BaseCommand):
    help = (
        "Seed the Viewer API sandbox with demo users, Express customers and studies in the "
        "clinic of VIEWER_API_KEY. Running it again creates nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--users", type=int, default=DEFAULT_USERS, help="Users (owner included)."
        )
        parser.add_argument("--studies", type=int, default=DEFAULT_STUDIES, help="Studies.")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed.")

    def handle(self, *args: Any, users: int, studies: int, seed: int, **options: Any) -> None:
        if users < 1 or studies < 0:
            raise CommandError("--users must be at least 1 and --studies at least 0.")
        result = seed_sandbox(users=users, studies=studies, seed=seed)
        self.stdout.write(
            f"Sandbox clinic {result.clinic_id}: {result.users} users, {result.customers} "
            f"Express customers, {result.studies} studies ({result.created} rows created now)."
        )
