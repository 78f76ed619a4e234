"""The `rueckenlotse` command's entry point (also ``python -m rueckenlotse``).

The command line lives in ``rueckenlotse.cli`` and needs the ``cli`` extra; each command imports the
libraries of its own feature when it runs. A library that is missing because its extra is not installed
ends the command with one line naming the extra (``extras.missing_extra_message``) and exit code 2, never
a traceback. Any other missing module is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

from .extras import EXIT_MISSING_EXTRA, extra_for, missing_extra_message


def main() -> None:
    try:
        from .cli import main as cli_main

        cli_main()
    except ModuleNotFoundError as error:
        name = error.name or ""
        if extra_for(name) is None:
            raise
        sys.stderr.write(missing_extra_message(name) + "\n")
        raise SystemExit(EXIT_MISSING_EXTRA) from None


if __name__ == "__main__":
    main()
