"""Importing studies in a real Chromium, with the real task worker: upload, preview, send,
watch the bar reach 100 %, download the result."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from sandbox.factories import random_uid
from sandbox.models import SandboxStudy
from tests.conftest import SandboxFaults
from tests.services.task_worker import TaskWorker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_preview_send_watch_and_download(
    sign_in: Callable[[str], Page],
    live_server: Any,
    sandbox_url: str,
    sandbox_faults: SandboxFaults,
    coordinator: User,
    task_worker: Callable[..., TaskWorker],
    csp_violations: list[str],
    tmp_path: Path,
) -> None:
    uids = [random_uid() for _ in range(8)]
    lines = ["Severity;Study description;Study Instance UID;metadata.ward"]
    wards = {uid: f"W{n}" for n, uid in enumerate(uids)}
    lines += [f"High;Import {n};{uid};{wards[uid]}" for n, uid in enumerate(uids)]
    lines.append("urgent;Bad severity;1.2.3;")
    csv_file = tmp_path / "batch.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    # Slow enough to see the bar move.
    sandbox_faults.arm("latency", seconds=0.3, count=20, method="POST", path="/v1/viewer/studies")
    task_worker(parallel=2)

    page = sign_in("coordinator")
    polls: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: (
            polls.append(request.headers)
            if request.headers.get("hx-target") == "import-progress"
            else None
        ),
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import studies").click()
    page.get_by_role("link", name="Import studies").last.click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the rows").click()

    expect(page.get_by_role("heading", name="Preview: nothing has been sent yet")).to_be_visible()
    problems = page.locator("table.import-problems")
    expect(problems).to_contain_text("Choose Normal, High or STAT.")
    expect(problems).to_contain_text("Severity")
    page.get_by_role("button", name="Send 8 valid rows").click()

    progress = page.locator("#import-progress")
    expect(progress).to_be_visible()
    bar = page.locator("progress.import-progress__bar")
    expect(bar).to_have_attribute("max", "8")
    # htmx polls; the bar fills without a reload, then the page shows the results.
    expect(page.get_by_text("100 %", exact=False).first).to_be_visible(timeout=60_000)
    expect(bar).to_have_attribute("value", "8")
    expect(page.get_by_role("heading", name="Finished")).to_be_visible(timeout=30_000)
    expect(page.locator("tr.import-row--created")).to_have_count(8)
    expect(page.locator("tr.import-row--invalid")).to_have_count(1)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the results (CSV)").click()
    download = download_info.value
    result = list(csv.reader(io.StringIO(Path(download.path()).read_text())))
    assert result[0] == ["Row", "Study Instance UID", "Outcome", "Study ID or reason"]
    outcomes = {line[1]: (line[2], line[3]) for line in result[1:]}
    for uid in uids:
        study = SandboxStudy.objects.get(study_instance_uid=uid)
        assert outcomes[uid] == ("Created", study.study_id)
        assert study.metadata == {"ward": wards[uid]}
    assert outcomes["1.2.3"][0] == "Not sent (problems in the file)"
    assert "Choose Normal, High or STAT." in outcomes["1.2.3"][1]
    # The bar was updated by htmx polls, each marked as background (not the user's activity).
    assert polls
    assert all(headers.get("x-background") == "1" for headers in polls)
    assert csp_violations == []
