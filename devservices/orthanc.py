"""A throw-away Orthanc PACS (Debian's `orthanc` and `orthanc-dicomweb` packages) with its
DICOMweb plugin, on a free loopback port, its storage and index in a temporary directory.

`running()` yields the DICOMweb root (QIDO-RS/WADO-RS), `http://127.0.0.1:PORT/dicom-web`;
Orthanc's own REST API (e.g. `POST /instances` to upload) is that URL without `/dicom-web`
(`rest_root()`). `running(users={"name": "password"})` turns HTTP basic authentication on.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from devservices.base import (
    ServiceUnavailable,
    free_port,
    require_executable,
    stop_process,
    wait_until,
)

ENV_VAR = "DICOMWEB_URL"
PACKAGE = "orthanc orthanc-dicomweb"
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
DICOMWEB_PATH = "/dicom-web"


def rest_root(dicomweb_url: str) -> str:
    """Orthanc's REST root for the DICOMweb root `running()` yielded."""
    return dicomweb_url.rstrip("/").removesuffix(DICOMWEB_PATH)


def _answers(url: str) -> bool:
    """Orthanc is up: any HTTP answer (a 401 included) from its REST API."""
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback URL we built
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@contextmanager
def running(users: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start Orthanc; yields its DICOMweb root URL. With `users`, every request needs HTTP
    basic authentication as one of them."""
    executable = require_executable(["Orthanc", "/usr/sbin/Orthanc"], package=PACKAGE)
    if not PLUGIN.exists():
        raise ServiceUnavailable(
            f"Orthanc's DICOMweb plugin ({PLUGIN}) is not installed. Install Debian's "
            "orthanc-dicomweb package (sudo apt-get install orthanc-dicomweb); script/test "
            "and script/server do it when run as root."
        )
    root = Path(tempfile.mkdtemp(prefix="viewer-admin-orthanc-"))
    log = root / "orthanc.log"
    port = free_port()
    config = {
        "Name": "viewer-admin-test",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "index"),
        "HttpPort": port,
        "DicomPort": free_port(),
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": bool(users),
        "RegisteredUsers": dict(users or {}),
        "HttpDescribeErrors": False,
        "SaveJobs": False,
        "Plugins": [str(PLUGIN)],
        "DicomWeb": {"Enable": True, "Root": f"{DICOMWEB_PATH}/"},
    }
    config_path = root / "orthanc.json"
    config_path.write_text(json.dumps(config, indent=2))
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [executable, str(config_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
    try:
        wait_until(
            lambda: _answers(f"http://127.0.0.1:{port}/system"),
            what="Orthanc",
            process=process,
            log=log,
        )
        yield f"http://127.0.0.1:{port}{DICOMWEB_PATH}"
    finally:
        stop_process(process)
        shutil.rmtree(root, ignore_errors=True)
