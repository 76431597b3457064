"""gunicorn settings for `make run` and the benchmarks: 2 sync workers suit a 2-core machine."""

import os

bind = os.environ.get("WUYE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WUYE_WORKERS", "2"))
worker_class = "sync"
timeout = 30
accesslog = os.environ.get("WUYE_ACCESS_LOG") or None


def on_starting(server):
    """Refuse to start while a stored key cannot be decrypted with WUYE_SECRET_KEY or its fallbacks."""
    from server import create_app
    from server.services.gate.key_vault import startup_check

    startup_check(create_app())


def post_worker_init(worker):
    """Freeze what the worker allocated loading the app (about 200,000 objects: models, the OpenAPI
    spec, libraries) out of the garbage collector's reach: a full collection walked them all, about
    0.1 s, and landed on whichever request was running (the lists' p99)."""
    import gc

    gc.freeze()
