"""Each synopsis of the README's command table names only options its command takes: `geo scenes cache
list|clear [--json] [--item ID]` read as both taking both, and a user copying `geo scenes cache clear --json`
got "No such option '--json'" (only `list` prints JSON; only `clear` takes --item)."""

from __future__ import annotations

import re

import click

from geo.cli import cli
from tests.flows.test_readme import OPTION, README


def _synopses() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Commands"):].split("\n\n")[1]
    spans = []
    for row in table.splitlines()[2:]:  # below the header and its rule
        first_cell = re.split(r"(?<!\\)\|", row)[1]
        spans += re.findall(r"`([^`]+)`", first_cell)
    return spans


def _commands(synopsis: str) -> list[click.Command]:
    """The commands a synopsis names: `geo scenes cache list|clear` is two."""
    context = click.Context(cli)
    commands: list[click.Command] = [cli]
    for word in synopsis.replace("\\|", "|").split()[1:]:
        names = word.split("|")
        if not all(isinstance(c, click.Group) for c in commands):
            break
        found = [c.get_command(context, name) for c in commands for name in names]  # type: ignore[attr-defined]
        if None in found:
            break
        commands = [c for c in found if c is not None]
    return commands


def test_every_synopsis_names_options_its_commands_take():
    synopses = _synopses()
    assert len(synopses) >= 11 and synopses[0].startswith("geo demo")
    wrong = []
    for synopsis in synopses:
        assert synopsis.startswith("geo "), synopsis
        commands = _commands(synopsis)
        assert commands != [cli], synopsis
        for command in commands:
            taken = {name for param in command.params for name in getattr(param, "opts", [])}
            wrong += [f"{command.name}: {option}" for option in OPTION.findall(synopsis) if option not in taken]
    assert wrong == []
