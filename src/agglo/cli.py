"""`agglo`: Django's management commands plus Agglo's own (up, demo, bench, worker, load_reference, token)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agglo.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    if sys.argv[1:] in (["--version"], ["version"]):  # Agglo's version, not Django's (which `version` printed)
        import django

        from agglo import __version__

        print(f"agglo {__version__} (Django {django.get_version()})")
        return
    try:
        execute_from_command_line(["agglo", *sys.argv[1:]])
    except ImproperlyConfigured as exc:  # a setting from the environment is wrong: say which, without a traceback
        print(f"agglo: {exc}", file=sys.stderr)
        sys.exit(2)
    except OperationalError as exc:  # said in one line, no traceback
        from django.conf import settings
        from django.db import connection

        where = settings.DATABASES["default"].get("NAME")
        try:  # which it is: no database to reach (no server, a folder not there), or one that stopped the command
            connection.close()
            connection.ensure_connection()
        except OperationalError:
            hint = (
                "Check DATABASE_URL and that its server is running."
                if os.environ.get("DATABASE_URL")
                else "Check AGGLO_VAR_DIR; `agglo up` creates the embedded database."
            )
            print(f"agglo: the database {where} cannot be opened ({exc}). {hint}", file=sys.stderr)
            sys.exit(2)
        print(f"agglo: the database {where} stopped the command: {exc}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        # the reader stopped early (`agglo matching_index events | head`): not an error of ours, and no traceback;
        # stdout goes to /dev/null so that Python's own flush at exit does not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)


if __name__ == "__main__":
    main()
