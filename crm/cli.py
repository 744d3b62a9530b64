"""The `crm` command: a thin wrapper over the project's management commands.

crm migrate | serve [--port N] | worker | seed [--scale N] | createuser NAME --role R
crm token create --user NAME | bench NAME [--scale N] | <any other manage.py command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    from django.core.management import execute_from_command_line

    if len(argv) < 2:
        argv.append("help")
    execute_from_command_line(["crm", *argv[1:]])


if __name__ == "__main__":
    main()
