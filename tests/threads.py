"""Running test code in several threads at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(index) in `count` threads released at the same moment; their results (or the
    exceptions they raised). Each thread has its own database connection, closed at the end."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - handed to the test's assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return results
