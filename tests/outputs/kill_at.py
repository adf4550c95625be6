"""Run the ``geo`` command and SIGKILL it at its N-th file-system step on its output folder.

    python tests/outputs/kill_at.py OUT N LOG [--in-staging] [--no-exchange] -- ARGS...

Steps are renames, mkdirs, rmdirs, removes and rmtrees (Python audit events: no hook in the workbench)
counted from the moment the run creates its staging folder beside OUT. By default they are the steps of the
switch: on OUT, on the folders beside it, or on files inside OUT; ``--in-staging`` counts the other steps,
inside the staging folders, instead (the run writing its files). Each counted step is appended to LOG before it
happens; at step N the process kills itself with SIGKILL, so step N never happens (N = 0: never).
``--no-exchange`` makes the swap take its fallback (two renames), as on systems without
renameat2(RENAME_EXCHANGE).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

STEPS = {"os.rename", "os.mkdir", "os.rmdir", "os.remove", "shutil.rmtree"}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's geo
    out, at, log = Path(os.path.abspath(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
    options, args = sys.argv[4:sys.argv.index("--")], sys.argv[sys.argv.index("--") + 1:]
    in_staging = "--in-staging" in options
    if "--no-exchange" in options:
        from geo import atomic

        atomic.rename_exchange = lambda _source, _target: False  # type: ignore[assignment]
    state = {"staging": False, "count": 0}

    def where(arg: object) -> str | None:
        """'switch' for OUT, a folder beside it or a file in OUT; 'staging' for a file in a folder beside it."""
        if not isinstance(arg, (str, bytes, os.PathLike)):
            return None
        parts = Path(os.path.relpath(os.path.abspath(os.fsdecode(arg)), out.parent)).parts
        if not parts or parts[0] in (".", "..") or len(parts) > 2:
            return None
        return "switch" if len(parts) == 1 or parts[0] == out.name else "staging"

    def hook(event: str, event_args: tuple) -> None:
        if event not in STEPS:
            return
        places = {where(a) for a in event_args} - {None}
        if event == "os.mkdir" and "switch" in places and Path(os.fsdecode(event_args[0])).name.startswith("."):
            state["staging"] = True
        if not state["staging"] or not places or (("switch" not in places) != in_staging):
            return
        state["count"] += 1
        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"{state['count']} {event} {' '.join(str(a) for a in event_args)}\n")
        if state["count"] == at:
            os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    from geo.cli import main as geo_main

    geo_main(args)


if __name__ == "__main__":
    main()
