"""gunicorn's hooks for the platform (`gunicorn -c python:agglo.gunicorn_conf agglo.wsgi:application`)."""

from __future__ import annotations

import logging
import threading
from typing import Any


def warm_up() -> None:
    """Builds this worker's matching engine as it starts, not in its first reader's request (5.7 s at 5,000
    members in review 49), and loads jieba's dictionary, which the factory pages' names break by (`words`, about a
    second); a failure here only leaves the work to that request."""
    import jieba
    from django.db import connections

    from agglo.matching.selectors.engine import LIVE

    try:
        LIVE.get()
        jieba.dt.check_initialized()
    except Exception:  # noqa: BLE001 - the first request builds it, and says what is wrong
        logging.getLogger(__name__).warning("the matching engine was not built ahead", exc_info=True)
    finally:
        connections.close_all()


def post_worker_init(worker: Any) -> None:
    # in the worker, once the application is loaded: never in the master (with --preload, a thread started there
    # would be lost at the fork, and importing the apps half-way broke the workers; recheck 51 R4)
    threading.Thread(target=warm_up, name="agglo-warm-up", daemon=True).start()
