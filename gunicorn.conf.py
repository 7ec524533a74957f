"""Gunicorn hooks for metrics across workers; gunicorn reads this file by itself
when started from this directory (``-b``, ``-w`` and ``--threads`` stay flags).

With ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its metrics to files
there and ``/metrics`` adds them up. The directory is emptied when the master
starts, so a restart does not carry over the last run's dead workers, and a
worker that exits is marked dead so its live-only values stop being summed.
"""

from __future__ import annotations

import os
from pathlib import Path


def on_starting(server: object) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
