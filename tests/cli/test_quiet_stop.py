"""After Ctrl-C or SIGTERM the user is owed one line: what the stop itself breaks on the way out (a local Dask
cluster whose workers were starting) is not shown."""

from __future__ import annotations

import logging
import sys

import geo.cli
from geo.cli import console


def test_after_a_stop_the_cluster_machinery_is_not_heard_but_geo_is(monkeypatch, capsys):
    monkeypatch.delenv("GEO_DEBUG", raising=False)
    monkeypatch.setattr(console.warning_log, "filters", [])
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)  # Python's own (pytest's keeps them)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [console.warning_log])
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    _ClosedBadly()
    err = capsys.readouterr().err
    assert "Task exception was never retrieved" in err and "AssertionError: Status.init" in err  # before a stop

    own = logging.StreamHandler(sys.stderr)  # distributed logs through a handler of its own too
    monkeypatch.setattr(logging.getLogger("distributed"), "handlers", [own])
    logging.getLogger("distributed.core").warning("Received 'close-stream'; closing.")
    assert "close-stream" in capsys.readouterr().err
    geo.cli._quiet_the_way_out()
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    logging.getLogger("distributed.deploy.spec").error("cluster closing failed")
    logging.getLogger("distributed.core").warning("Received 'close-stream'; closing.")
    logging.getLogger("geo.jobs").warning("the run folder kept at X")
    err = capsys.readouterr().err
    assert "never retrieved" not in err and "closing failed" not in err and "close-stream" not in err
    assert "warning: the run folder kept at X" in err
    _ClosedBadly()  # an exception Python cannot raise (an exit handler's, a finaliser's) is not printed either
    assert capsys.readouterr().err == ""


class _ClosedBadly:
    def __del__(self) -> None:
        raise AssertionError("Status.init")


def test_with_geo_debug_all_is_shown(monkeypatch, capsys):
    monkeypatch.setenv("GEO_DEBUG", "1")
    monkeypatch.setattr(console.warning_log, "filters", [])
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    monkeypatch.setattr(logging.getLogger(), "handlers", [console.warning_log])
    geo.cli._quiet_the_way_out()
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    assert "never retrieved" in capsys.readouterr().err
