"""gunicorn.conf.py, as `make run` and the benchmarks start the service."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_what_it_loaded_out_of_the_collectors_reach():
    settings = runpy.run_path(str(CONF))
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](None)
        # Everything alive now (the app and its libraries, here the test session's) is out of reach.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()

