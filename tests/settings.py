"""Test settings: the real settings module with immediate tasks, fast hashing and a throwaway media folder."""

import atexit
import os
import shutil
import tempfile
import time
from pathlib import Path

from agglo.settings import *  # noqa: F403
from agglo.settings import TIME_ZONE

# The process's own clock in the platform's zone: tests that date things with `datetime.date.today()` then agree
# with the platform's `timezone.localdate()`, also in the hours when the two zones are on different days (from
# 16:00 UTC, Shanghai is on the next day; a due week counted from the wrong day fell outside the horizon).
os.environ["TZ"] = TIME_ZONE
time.tzset()

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="agglo-test-media-"))
_LEDGER_DIR = tempfile.mkdtemp(prefix="agglo-test-ledger-")
# Each test process makes its own throwaway folders; leave none behind in /tmp.
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
atexit.register(shutil.rmtree, _LEDGER_DIR, ignore_errors=True)
AGGLO_UPLOAD_MAX_BYTES = 200_000
AGGLO_LEDGER_KEY_FILE = str(Path(_LEDGER_DIR) / "ledger-key.txt")
# WhiteNoise looks a static file up when it is asked for, rather than listing every app's static files whenever a
# test client builds its middleware (each new `Client` does): that listing was most of the API matrix's time.
WHITENOISE_AUTOREFRESH = True
