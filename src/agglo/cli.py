"""`agglo`: Django's management commands plus Agglo's own (up, demo, bench, worker, load_reference, token)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agglo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["agglo", *sys.argv[1:]])


if __name__ == "__main__":
    main()
