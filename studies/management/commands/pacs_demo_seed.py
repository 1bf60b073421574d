"""`manage.py pacs_demo_seed`: the demo PACS's studies (script/server runs it).

Uploads about 20 header-only demo studies (devservices.dicom_demo) to the Orthanc behind
DICOMWEB_URL, and creates some of them in the Viewer API sandbox too, so that "Find in PACS"
shows "Already in the Viewer". Running it again adds nothing. Local mode only.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devservices.dicom_demo import demo_studies, upload


class Command(BaseCommand):
    help = "Upload demo studies to the local Orthanc (DICOMWEB_URL); some also into the sandbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--studies", type=int, default=20, help="Demo studies (default 20).")
        parser.add_argument(
            "--in-viewer-every",
            type=int,
            default=4,
            help="Every Nth demo study is also created in the sandbox (default 4).",
        )

    def handle(self, *args: Any, studies: int, in_viewer_every: int, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo PACS data is never seeded in production mode.")
        if not settings.DICOMWEB_URL:
            raise CommandError("DICOMWEB_URL is not set: start the demo Orthanc first.")
        demo = demo_studies(studies)
        try:
            sent = upload(settings.DICOMWEB_URL, demo)
        except httpx.HTTPError as exc:
            raise CommandError(f"The PACS at DICOMWEB_URL did not take the studies: {exc}") from exc
        created = 0
        if settings.SANDBOX_ENABLED and in_viewer_every > 0:
            created = self._into_sandbox(demo[::in_viewer_every])
        self.stdout.write(
            f"Demo PACS: {len(demo)} studies ({sent} instances); {created} also created in "
            "the sandbox now."
        )

    @staticmethod
    def _into_sandbox(chosen: list[Any]) -> int:
        from sandbox.factories import SandboxFactory
        from sandbox.models import SandboxStudy

        factory = SandboxFactory()
        created = 0
        for study in chosen:
            exists = SandboxStudy.objects.filter(
                clinic_id=factory.clinic_id, study_instance_uid=study.study_instance_uid
            ).exists()
            if not exists:
                factory.study(
                    study_instance_uid=study.study_instance_uid,
                    study_description=study.study_description,
                    metadata={"AccessionNumber": study.accession_number},
                )
                created += 1
        return created
