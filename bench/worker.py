"""Child process of the harness: ``python -m bench.worker module:function KWARGS_JSON OUT``.

Starts Django against the database the environment names, migrates it, calls the function
and writes its result (a JSON-able dict) to OUT.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m bench.worker module:function KWARGS_JSON OUT", file=sys.stderr)
        return 2
    target, kwargs_json, out = argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(**json.loads(kwargs_json))
    Path(out).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
