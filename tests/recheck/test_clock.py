"""``geo recheck`` run by cron in local time: scenes, claim windows and ``--since`` are dates in UTC, and a cron
line's ``date +%F`` is the machine's own date, which east of Greenwich is UTC's tomorrow for hours."""

from __future__ import annotations

from datetime import date

import pytest

from geo.errors import DateError
from geo.recheck.run import check_since

UTC_TODAY = date(2026, 12, 6)


@pytest.mark.parametrize("since, local_today", [
    (UTC_TODAY, UTC_TODAY),
    (date(2026, 12, 7), date(2026, 12, 7)),  # Seoul at 08:00 on the 7th: 23:00 UTC on the 6th
    (date(2026, 12, 5), date(2026, 12, 5)),  # New York at 20:00 on the 5th: 01:00 UTC on the 6th
])
def test_a_since_of_today_where_the_machine_is_is_taken(since, local_today):
    check_since(since, UTC_TODAY, local_today)  # refused as "in the future" before, Seoul's morning


@pytest.mark.parametrize("since, local_today, message", [
    (date(2026, 12, 7), UTC_TODAY, "--since 2026-12-07 is in the future (today is 2026-12-06 in UTC)"),
    (date(2026, 12, 8), date(2026, 12, 7), "--since 2026-12-08 is in the future (today is 2026-12-06 in UTC, "
                                           "2026-12-07 here)"),
    (UTC_TODAY, date(2026, 12, 5), None),
])
def test_a_since_after_both_todays_is_refused_naming_them(since, local_today, message):
    if message is None:
        check_since(since, UTC_TODAY, local_today)
        return
    with pytest.raises(DateError) as raised:
        check_since(since, UTC_TODAY, local_today)
    assert str(raised.value) == message


def test_the_terminal_says_which_today_a_future_since_is_after(series, tmp_path, geo_cli):
    result = geo_cli(*series.args(tmp_path / "s.gpkg", "--aoi", "site-a", "--since", "2999-01-01"),
                     env={"TZ": "Asia/Seoul"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: --since 2999-01-01 is in the future (today is ")
    assert " in UTC" in result.stderr and not (tmp_path / "s.gpkg").exists()


def test_a_clock_set_back_before_the_last_recheck_is_warned_of(first_run, geo_cli):
    """A machine whose clock went back (no NTP, a reset clock) searches up to a 'today' before scenes the store
    already holds: every claim window looks ahead, and nothing new is found however long it runs. Said, on the
    log cron keeps (it said only "nothing new")."""
    import sqlite3

    series, store = first_run
    with sqlite3.connect(store) as conn:  # as if the store's run had been recorded by a clock far ahead
        conn.execute("UPDATE runs SET started_at = '2999-01-01T00:00:00.000Z'")
    result = geo_cli(*series.args(store))
    assert result.returncode == 0 and result.stdout.startswith("nothing new: 4 AOIs"), result.stderr
    assert ("before the store's last re-check began (2999-01-01T00:00:00.000Z): check the machine's clock; scenes "
            "are searched up to ") in result.stderr
    assert result.stderr.startswith("warning: the clock says ")
