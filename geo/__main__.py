"""``python -m geo`` is the ``geo`` command, and ``main`` the console script's entry point (pyproject.toml)."""

import sys


def main() -> None:
    """``geo.cli.main``, imported here: a Ctrl-C while it imports (click, the first ~0.05 s of the command) ends
    as a later one does, one line and exit 130, not Python's KeyboardInterrupt traceback. ``geo.cli.main`` takes
    Ctrl-C over as it starts, and ends the process (``sys.exit``)."""
    try:
        from geo.cli import main as geo_main

        geo_main()
    except KeyboardInterrupt:  # before geo.cli.main took it over: said and ended as it does (geo.cli._stopped)
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
