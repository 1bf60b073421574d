"""Create (or reset) the local demo sign-ins: `coordinator` and `observer`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studies.roles import COORDINATORS, OBSERVERS

DEMO_USERS = {
    "coordinator": ("Casey", "Coordinator", COORDINATORS),
    "observer": ("Olive", "Observer", OBSERVERS),
}


class Command(BaseCommand):
    help = "Create the demo accounts 'coordinator' and 'observer' (local mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--password", required=True, help="Password for both accounts.")

    def handle(self, *args: Any, password: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo accounts are never created in production mode.")
        User = get_user_model()
        for username, (first, last, group_name) in DEMO_USERS.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} demo account {username!r} ({group_name}).")
