"""A cron line's ``--since`` with its year mistyped (2004-10-01 for 2024-10-01): no scene is older than Sentinel-2's
first (2015-06-23), so the baseline became the archive's first scene over the AOI, and a first run on Earth Search
processed every scene since 2015, said nowhere. Now refused before anything is read or made, naming the option, the
date, the mission's first scenes and the date probably meant."""

from __future__ import annotations

from datetime import date, datetime, timezone

from geo.dates import year_slip


def test_a_since_before_the_first_scenes_is_refused_naming_the_date_meant(user, flow_archive):
    shell = user("recheck", "--aoi", "demo-nantes-port", "--store", "s.gpkg", "--source", flow_archive.url,
                 "--since", "2004-10-01", "--sensor", "s2")
    assert shell.returncode == 1 and "Traceback" not in shell.output, shell.output
    this_year = datetime.now(timezone.utc).year
    meant = "2024-10-01" if this_year < 2034 else "2034-10-01"
    assert shell.stderr == (f"Error: --since 2004-10-01 is before Sentinel-2's first scenes (2015-06-23): the "
                            f"baseline would be the first scene over the AOI, every scene since then processed; did "
                            f"you mean {meant}? (from the first scenes on: --since 2015-06-23)\n"), shell.stderr
    assert not (user.home / "s.gpkg").exists() and not (user.home / "s-outputs").exists()


def test_a_since_no_digit_away_from_a_recent_date_is_refused_without_a_guess(user, flow_archive):
    shell = user("recheck", "--aoi", "demo-nantes-port", "--store", "s.gpkg", "--source", flow_archive.url,
                 "--since", "1999-10-01")
    assert shell.returncode == 1 and shell.stderr.endswith(
        "every scene since then processed; from the first scenes on: --since 2015-06-23\n"), shell.stderr


def test_a_since_on_the_first_scenes_day_is_taken(user, flow_archive):
    shell = user("recheck", "--aoi", "demo-nantes-port", "--store", "s.gpkg", "--source", flow_archive.url,
                 "--since", "2015-06-23", "--sensor", "s2", "--json")
    assert shell.returncode == 0, shell.output
    assert (user.home / "s.gpkg").is_file()


def test_the_date_meant_is_the_latest_one_digit_away_and_not_ahead():
    today = date(2026, 12, 7)
    first = date(2015, 6, 23)
    assert year_slip(date(2004, 10, 1), first, today) == date(2024, 10, 1)
    assert year_slip(date(2005, 3, 1), first, today) == date(2025, 3, 1)
    assert year_slip(date(1026, 3, 1), first, today) == date(2026, 3, 1)
    assert year_slip(date(2006, 12, 31), first, today) == date(2016, 12, 31)  # 2026-12-31 is ahead
    assert year_slip(date(1999, 1, 1), first, today) is None
    assert year_slip(date(2008, 2, 29), first, today) is None  # 2018, 2028 have no 29 February
