"""Test settings: the real settings module with immediate tasks, fast hashing and a throwaway media folder."""

import tempfile
from pathlib import Path

from agglo.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="agglo-test-media-"))
AGGLO_UPLOAD_MAX_BYTES = 200_000
AGGLO_LEDGER_KEY_FILE = str(Path(tempfile.mkdtemp(prefix="agglo-test-ledger-")) / "ledger-key.txt")
