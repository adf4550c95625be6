"""``python -m geo`` is the ``geo`` command, and ``main`` the console script's entry point (pyproject.toml)."""

import signal
import sys
import threading
from types import FrameType

# Said and exit codes as geo.cli says them (geo.cli._STOPS), for a stop that comes before it is imported.
_STOPS = {signal.SIGINT: "Interrupted.", signal.SIGTERM: "Terminated."}


def main() -> None:
    """``geo.cli.main``, imported here with Ctrl-C and SIGTERM only noted: one that comes while it imports (click,
    the first ~0.05 s of the command) ends the command as a later one does, one line and exit 130 or 143, not with
    Python's KeyboardInterrupt traceback (or not at all: raised in the import system's clean-up, it was dropped).
    ``geo.cli.main`` takes the signals over as it starts, and ends the process (``sys.exit``)."""
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    in_main_thread = threading.current_thread() is threading.main_thread()  # where signals can be handled
    previous = {signum: signal.signal(signum, note) for signum in _STOPS} if in_main_thread else {}
    from geo.cli import main as geo_main

    if received:
        sys.stderr.write(_STOPS[signal.Signals(received[0])] + "\n")
        sys.exit(128 + received[0])
    for signum, handler in previous.items():
        signal.signal(signum, handler)
    geo_main()


if __name__ == "__main__":
    main()
