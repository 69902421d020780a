"""The ``leadpact`` console command: Django's management commands with the project's settings.

``leadpact migrate``, ``leadpact import leads FILE --mapping MAPPING``, ``leadpact demo``,
``leadpact scoring fit …`` — anything ``manage.py`` offers, against whatever database the
environment names (SQLite by default, PostgreSQL through ``DATABASE_URL``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Jobs started from the command line finish before the command returns.
    os.environ.setdefault("LEADPACT_JOBS", "sync")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["leadpact", *args])


if __name__ == "__main__":
    main()
