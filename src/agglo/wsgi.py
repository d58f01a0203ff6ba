import logging
import os
import threading

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agglo.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    """Builds this worker's matching engine as it starts, not in its first reader's request (5.7 s at 5,000
    members in review 49); a failure here only leaves the work to that request."""
    from django.db import connections

    from agglo.matching.selectors.engine import LIVE

    try:
        LIVE.get()
    except Exception:  # noqa: BLE001 - the first request builds it, and says what is wrong
        logging.getLogger(__name__).warning("the matching engine was not built ahead", exc_info=True)
    finally:
        connections.close_all()


threading.Thread(target=_warm_up, name="agglo-warm-up", daemon=True).start()
