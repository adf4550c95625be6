"""``geo aoi list|show`` and ``geo claims list|show``: browse the project's AOIs and claims."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from geo.claims import Claim
from geo.claim_files import load_claims, read_claims
from geo import paths
from geo.cli import console
from geo.cli.options import (
    aoi_dir_option, aoi_folder, json_option, listed_folder, seeds_dir_option, seeds_folder,
)
from geo.errors import AOIError

if TYPE_CHECKING:
    from geo.aoi import AOI


# `show` prints JSON only; --json is taken as the listings take it, so a script can pass it to every command.
show_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (what `show` prints anyway).")


@click.group("aoi")
def aoi_group() -> None:
    """Areas of interest (aoi/*.geojson)."""


@aoi_group.command("list")
@aoi_dir_option
@json_option
def aoi_list(aoi_dir: Path | None, as_json: bool) -> None:
    """List AOIs with kind, country and area."""
    from geo.aoi import load_aois  # shapely, pyproj: here, so that --help stays light

    folder = listed_folder(aoi_dir, paths.aoi_dir(), "--aoi-dir")
    aois = load_aois(folder)
    if not aois:
        _say_empty(f"no AOIs: {folder} holds no GeoJSON file (.geojson; one Feature with an 'id' each)")
    if as_json:
        console.echo(json.dumps([a.summary() for a in aois.values()], indent=2))
        return
    if not aois:
        return
    table = Table("id", "name", "country", "kind", "km²", show_edge=False)  # (its edges: 2 columns of 80)
    for aoi in aois.values():
        table.add_row(aoi.id, aoi.name, aoi.country, aoi.kind, f"{aoi.area_km2:.1f}")
    # ids (what --aoi takes) and kinds (values of a vocabulary) never cut; a terminal too narrow for them beside
    # a readable name gets a block per AOI instead of names folded inside words
    console.print_table(table, "id", "kind", narrow=lambda: _aoi_blocks(aois), room={"name": NAME_WIDTH})


NAME_WIDTH = 15  # the name column's narrowest a line (its text's when shorter; "Blagoveshchensk"), else blocks


def _aoi_blocks(aois: Mapping[str, AOI]) -> None:
    """The AOIs one block each: the id with its kind, country and area, then the name wrapped between words."""
    import textwrap

    width = max(console.stdout.width, 40)
    for index, aoi in enumerate(aois.values()):
        if index:
            console.stdout.print()
        facts = f"{aoi.kind}, {aoi.country}, {aoi.area_km2:.1f} km²"
        together = len(aoi.id) + len(facts) + 3 <= width  # else the facts on a line of their own
        console.stdout.print(f"[bold]{console.esc(aoi.id)}[/]" + (f" ({console.esc(facts)})" if together else ""),
                             markup=True)
        if not together:
            console.stdout.print(f"  {facts}", markup=False)
        console.stdout.print(textwrap.fill(aoi.name, width, initial_indent="  ", subsequent_indent="  ",
                                           break_long_words=False, break_on_hyphens=False), markup=False,
                             soft_wrap=True)


@aoi_group.command("show")
@click.argument("aoi_ref")
@aoi_dir_option
@show_json_option
def aoi_show(aoi_ref: str, aoi_dir: Path | None, as_json: bool) -> None:
    """Show one AOI (id or file) as validated JSON."""
    from shapely.geometry import mapping

    from geo.antimeridian import bbox
    from geo.aoi import resolve_aoi

    skipped: list[AOIError] = []
    aoi = resolve_aoi(aoi_ref, aoi_folder(aoi_dir), skipped, advice="give its id: geo aoi show {id}")
    console.warn_skipped(skipped, "`geo aoi list`")
    console.echo(json.dumps({**aoi.summary(), "bounds": list(bbox(aoi.geometry)), "geometry": mapping(aoi.geometry)}, indent=2))


@click.group("claims")
def claims_group() -> None:
    """Claims taken from source documents (seeds/*.toml)."""


def _say_empty(message: str) -> None:
    """An empty listing says so on stderr (stdout keeps only the table or the JSON)."""
    console.stderr.print(message)


def _claims(aoi_dir: Path | None, seeds_dir: Path | None) -> dict[str, Claim]:
    from geo.aoi import load_aois

    # the AOI folder must be there: without it every claim 'names unknown AOI', the folder's absence unsaid
    aois = load_aois(listed_folder(aoi_dir, paths.aoi_dir(), "--aoi-dir"))
    return load_claims(seeds_folder(seeds_dir), set(aois))


@claims_group.command("list")
@aoi_dir_option
@seeds_dir_option
@json_option
def claims_list(aoi_dir: Path | None, seeds_dir: Path | None, as_json: bool) -> None:
    """List claims with claimant, stance, window and AOIs."""
    folder = listed_folder(seeds_dir, paths.seeds_dir(), "--seeds-dir")
    claims = _claims(aoi_dir, folder)
    if not claims:
        _say_empty(f"no claims: {folder} holds no claims file (.toml; the format is in seeds/README.md)")
    if as_json:
        console.echo(json.dumps([c.summary() for c in claims.values()], indent=2, ensure_ascii=False))
        return
    if not claims:
        return
    table = Table("id", "claimant", "stance", "window", "AOIs", "observable")
    for c in claims.values():
        # else the AOI's mean solar time (geo.claim_days); a line of its own, so the dates' column stays narrow
        zone = f"\n({c.time_zone})" if c.time_zone else ""
        table.add_row(c.id, c.claimant, str(c.stance), f"{c.window.start}..{c.window.end}{zone}",
                      "\n".join(c.aoi_ids), "yes" if c.observable else "no")
    # AOI ids are what --aoi takes: never cut; a terminal too narrow for them beside the claimant gets a block
    # per claim instead of a claimant folded to 4 letters a line
    console.print_table(table, "id", "window", "AOIs", narrow=lambda: _claim_blocks(claims),
                        room={"claimant": CLAIMANT_WIDTH})


CLAIMANT_WIDTH = 12  # the claimant column's narrowest a line (its text's when shorter), else a block per claim


def _claim_blocks(claims: dict[str, Claim]) -> None:
    """The claims one block each: the id and its stance, then the window, the AOIs and the claimant, each on
    lines of its own, wrapped between words to the terminal's width (never inside an id)."""
    import textwrap

    echo, esc = console.stdout.print, console.esc
    width = max(console.stdout.width, 40)
    for index, c in enumerate(claims.values()):
        if index:
            echo()
        zone = f" ({c.time_zone})" if c.time_zone else ""
        seen = "observable" if c.observable else "not observable"
        echo(f"[bold]{esc(c.id)}[/] ({c.stance}, {seen})", markup=True)
        for label, text in (("window", f"{c.window.start}..{c.window.end}{zone}"), ("AOIs", ", ".join(c.aoi_ids)),
                            ("claimant", c.claimant)):
            echo(textwrap.fill(text, width, initial_indent=f"  {label:<9}", subsequent_indent=" " * 11,
                               break_long_words=False, break_on_hyphens=False), markup=False, soft_wrap=True)


@claims_group.command("show")
@click.argument("claim_id")
@aoi_dir_option
@seeds_dir_option
@show_json_option
def claims_show(claim_id: str, aoi_dir: Path | None, seeds_dir: Path | None, as_json: bool) -> None:
    """Show one claim as JSON (other claims' faults are warnings; `geo claims list` checks them all)."""
    from geo.aoi import load_aois

    skipped: list[AOIError] = []
    aois = load_aois(listed_folder(aoi_dir, paths.aoi_dir(), "--aoi-dir"), skipped)
    read = read_claims(listed_folder(seeds_dir, paths.seeds_dir(), "--seeds-dir"), set(aois), bool(skipped))
    claim = read.wanted([claim_id])[claim_id]
    console.warn_skipped([*skipped, *(p.error for p in read.problems)], "`geo aoi list` and `geo claims list`")
    console.echo(json.dumps(claim.summary(), indent=2, ensure_ascii=False))
