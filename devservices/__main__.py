"""`python -m devservices --with postgres,redis -- COMMAND ...`

Starts the named services, runs COMMAND with each service's URL in its environment variable
(postgres → DATABASE_URL, redis → REDIS_URL, orthanc → DICOMWEB_URL), stops the services when
COMMAND ends (or on Ctrl+C / SIGTERM), and exits with COMMAND's exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from types import FrameType, ModuleType

from devservices import orthanc, postgres, redis
from devservices.base import ServiceUnavailable

SERVICES: dict[str, ModuleType] = {"postgres": postgres, "redis": redis, "orthanc": orthanc}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices", description=__doc__)
    parser.add_argument(
        "--with",
        dest="services",
        required=True,
        help=f"comma-separated, from: {', '.join(SERVICES)}",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.services.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")

    def _terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    env = dict(os.environ)
    try:
        with ExitStack() as stack:
            for name in names:
                module = SERVICES[name]
                env[module.ENV_VAR] = stack.enter_context(module.running())
            # Its own process group, so that stopping reaches its children too (runserver's
            # reloader, a `bash -c` pipeline).
            child = subprocess.Popen(command, env=env, process_group=0)  # noqa: S603
            try:
                return child.wait()
            except KeyboardInterrupt:
                return _stop_group(child)
    except ServiceUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _stop_group(child: subprocess.Popen[bytes]) -> int:
    """Ctrl+C for the command's whole group; SIGTERM, then SIGKILL, if it does not stop
    (a command started in the background ignores SIGINT)."""
    steps = [(signal.SIGINT, 10.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)]
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        steps = steps[1:]  # the command inherited the ignored SIGINT: it would only wait
    for sig, grace in steps:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            break
        try:
            return child.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
