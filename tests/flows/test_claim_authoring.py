"""An analyst writing a claims file by hand, in the editors and with the habits people have: dates typed as
people type them, a time with its zone (Korea's evening is UTC's afternoon), typographic quotes, Notepad's
encodings. ``geo claims list`` takes what is right and refuses the rest in one line naming the file, the claim,
the field and what to write instead (exit 1, no traceback)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO

CLAIM = """[document]
title = "My notes"

[[claim]]
id = "my-claim"
claimant = "Someone"
statement = "Cranes arrived on the island."
date_stated = {stated}
aoi_ids = ["{aoi}"]
window = {window}
signatures = ["new_construction"]
"""


def seeds(home, stated: str = "2017-10-31", window: str = "{ start = 2016-01-01, end = 2017-06-30 }",
          aoi: str = "demo-nantes-port") -> tuple[str, ...]:
    """A seeds folder holding the one claim file ``mine.toml``, beside a copy of the shipped AOIs."""
    (home / "seeds").mkdir()
    (home / "seeds" / "mine.toml").write_text(CLAIM.format(stated=stated, window=window, aoi=aoi), encoding="utf-8")
    return ("--seeds-dir", "seeds", "--aoi-dir", str(REPO / "aoi"))


def edited_seeds(home, old: str, new: str) -> tuple[str, ...]:
    """``seeds`` with ``old`` in its claim file replaced by ``new`` (a slip typed into it)."""
    args = seeds(home)
    path = home / "seeds" / "mine.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return args


def refusal(result, path: str = "seeds/mine.toml") -> str:
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.stdout == ""
    line, = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}"), line
    return line


@pytest.mark.parametrize("stated, window, says", [
    # TOML itself refuses these; the parser says only "Unclosed inline table" at a column
    ("2017-10-31", "{ start = 2016-1-5, end = 2017-06-30 }",
     "; 2016-1-5 is not a TOML date: write YYYY-MM-DD with a two-digit month and day (2016-01-05)"),
    ("31/10/2017", "{ start = 2016-01-01, end = 2017-06-30 }", "; 31/10/2017 is not a TOML date: write YYYY-MM-DD "
     "(2017-10-31)"),  # the day first: 31 is no month
    ("2017-10-31", "{ start = 05/01/2016, end = 2017-06-30 }",
     "; 05/01/2016 is not a TOML date: write YYYY-MM-DD (whether 05/01/2016 is day/month or month/day is not guessed)"),
    ("2017-10-31", "{ start = 2016-01-01T23:00+09:00, end = 2017-06-30 }",  # TOML wants seconds
     "; 2016-01-01T23:00+09:00 is not a TOML date: write the day alone: 2016-01-01 where it was stated"),
    # valid TOML, not a date
    ("2017-10-31", '{ start = "2016-1-5", end = 2017-06-30 }',
     "field 'start' must be a date YYYY-MM-DD, got '2016-1-5'; write YYYY-MM-DD with a two-digit month and day "
     "(2016-01-05)"),
    ('"20171031"', "{ start = 2016-01-01, end = 2017-06-30 }",  # date.fromisoformat took it; the CLI does not
     "claim 'my-claim': field 'date_stated' must be a date YYYY-MM-DD, got '20171031'"),
    ("2017-10-31", "{ start = 2016-01-01, stop = 2017-06-30 }",
     "claim 'my-claim': window takes 'start' and 'end' dates, not 'stop'"),
    ("2017-10-31", "{ start = 2016-01-01 }", "claim 'my-claim': field 'end' is missing (a date YYYY-MM-DD)"),
    # a window typed as a string or a pair of dates: "missing [window]", though it was there
    ("2017-10-31", '"2016-01-01/2017-06-30"', "claim 'my-claim': field 'window' must be a table of two dates, got the "
     "string '2016-01-01/2017-06-30': write window = { start = 2016-01-01, end = 2017-06-30 }"),
    ("2017-10-31", "[2016-01-01, 2017-06-30]", "claim 'my-claim': field 'window' must be a table of two dates, got a "
     "list: write window = { start = 2016-01-01, end = 2017-06-30 }"),
    ("2017-10-31", '"early 2016"', "claim 'my-claim': field 'window' must be a table of two dates, got the string "
     "'early 2016': write window = { start = YYYY-MM-DD, end = YYYY-MM-DD }"),
])
def test_a_date_written_another_way_says_how_to_write_it(user, stated, window, says):
    line = refusal(user("claims", "list", *seeds(user.home, stated, window)))
    assert says in line, line


INLINE = ("; an inline table { ... } is written on one line, with no comma after its last entry: window = { start "
          "= 2024-10-08, end = 2024-10-13 }")


@pytest.mark.parametrize("stated, window, says", [
    ("2017-10-31", "{\n  start = 2016-01-01,\n  end = 2017-06-30\n}", f"(at line 10, column 11)){INLINE}"),
    ("2017-10-31", "{ start = 2016-01-01, end = 2017-06-30, }", f"(at line 10, column 50)){INLINE}"),
    ('2017-10-31\nnotes = "seen twice,\nonce from the air"', "{ start = 2016-01-01, end = 2017-06-30 }",
     """(at line 9, column 21)); a string ends on its own line: close its quote, or use triple quotes \"\"\"...\"\"\" """
     "for several lines"),
    ("2017-10-31\ndate_stated = 2017-11-01", "{ start = 2016-01-01, end = 2017-06-30 }",
     "(at line 9, column 25)); the key 'date_stated' is given twice in its table"),
])
def test_toml_layout_slips_say_what_toml_wants(user, stated, window, says):
    """TOML's own words ('Invalid initial character for a key part') name a line, not the rule broken there."""
    line = refusal(user("claims", "list", *seeds(user.home, stated, window)))
    assert "malformed TOML" in line and line.endswith(says), line


@pytest.mark.parametrize("when, iso, day", [
    ("2024-10-08T23:00:00+09:00", "2024-10-08T23:00:00+09:00", "2024-10-08"),  # Seoul's evening
    ("2024-10-09T01:00:00+09:00", "2024-10-09T01:00:00+09:00", "2024-10-09"),  # its small hours: the 8th in UTC
    ('"2024-10-09 01:00+09:00"', "2024-10-09T01:00:00+09:00", "2024-10-09"),  # as a string
])
def test_a_time_with_its_zone_is_refused_giving_its_day_where_stated(user, when, iso, day):
    """A window is whole days, the local days of the claim's place (not UTC's, as scenes are dated): the time
    would be dropped. The message gives the day where it was stated and the time_zone that counts in its zone."""
    line = refusal(user("claims", "list", *seeds(user.home, window=f"{{ start = {when}, end = 2024-10-13 }}")))
    assert f"claim 'my-claim': field 'start' must be a date YYYY-MM-DD, got the date-time {iso}; " in line, line
    assert f'write the day alone: {day} where it was stated' in line, line
    assert 'time_zone = "+09:00" counts them in the zone stated' in line, line


def test_typographic_quotes_are_named(user):
    """A statement pasted from a word processor, its quotes made curly."""
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('claimant = "Someone"', "claimant = “Someone”"),
                    encoding="utf-8")
    line = refusal(user("claims", "list", *args))
    assert line.endswith("malformed TOML (Invalid value (at line 6, column 12)); typographic quotes (“ ” ‘ ’) do "
                         'not quote a TOML string: use straight ones "..."'), line


@pytest.mark.parametrize("edit, says", [
    (("[[claim]]", "[claim]"), "seeds/mine.toml: [claim] is written with double brackets, [[claim]], before each claim"),
    (("[[claim]]", "[[claims]]"), "seeds/mine.toml: unknown table or key 'claims' (did you mean [[claim]]?); a seeds "
                                  "file holds a [document] table and [[claim]] tables"),
    (('aoi_ids = ["demo-nantes-port"]', 'aoi_ids = "demo-nantes-port"'),
     "claim 'my-claim': field 'aoi_ids' must be a non-empty list of ids in brackets, [\"demo-nantes-port\"]"),
    (("", ""), "seeds/mine.toml: no [[claim]] tables found (the file is empty)"),
])
def test_a_file_shaped_another_way_says_how(user, edit, says):
    """A single [claim] table (its claims were "not found"), [[claims]] (its claims dropped unseen, beside a
    [[claim]]), one AOI id without brackets, an empty file."""
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(*edit) if edit[0] else "", encoding="utf-8")
    assert refusal(user("claims", "list", *args)).endswith(says)


def test_a_claim_id_in_another_script_says_which_characters_an_id_takes(user):
    """Names and quotes in any script are taken in the text fields; the id is a slug."""
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    text = path.read_text(encoding="utf-8").replace('"Someone"', '"Служба «НИС» 국가정보원"')
    path.write_text(text, encoding="utf-8")
    shown = user("claims", "show", "my-claim", *args)
    assert shown.returncode == 0 and json.loads(shown.stdout)["claimant"] == "Служба «НИС» 국가정보원", shown.output
    path.write_text(text.replace('id = "my-claim"', 'id = "корабли"'), encoding="utf-8")
    assert refusal(user("claims", "list", *args)).endswith(
        "seeds/mine.toml: claim 'id' must be a lower-case slug like 'my-claim' (ASCII a-z, 0-9, '-', '_'; the other "
        "fields take any script), got 'корабли'")


def test_an_aoi_id_one_letter_off_is_suggested(user):
    line = refusal(user("claims", "list", *seeds(user.home, aoi="demo-nante-port")))
    assert line.endswith("claim 'my-claim' names unknown AOI 'demo-nante-port' (did you mean 'demo-nantes-port'?)")


def test_notepad_files_utf8_with_a_mark_and_crlf_are_read_utf16_and_latin1_refused(user):
    """Windows Notepad saves UTF-8 with a byte-order mark (older ones by default) and CRLF line ends, or, as
    'Unicode', UTF-16; an old editor saves Latin-1. The first reads as any file; the others are told apart."""
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    text = path.read_text(encoding="utf-8").replace("Cranes arrived", "Grues arrivées").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    shown = user("claims", "show", "my-claim", *args)
    assert shown.returncode == 0, shown.output
    claim = json.loads(shown.stdout)
    assert claim["statement"] == "Grues arrivées on the island."
    assert claim["window"] == {"start": "2016-01-01", "end": "2017-06-30"} and claim["source"] == "My notes"

    path.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Notepad writes it
    assert refusal(user("claims", "list", *args)) == (
        "Error: seeds/mine.toml: UTF-16 text (Notepad's 'Unicode'); TOML is UTF-8: save the file again as UTF-8 "
        "(Notepad: Save As, Encoding UTF-8)")
    path.write_bytes(text.encode("latin-1"))
    at = text.encode("latin-1").index(b"\xe9") + 1
    assert refusal(user("claims", "list", *args)) == (
        f"Error: seeds/mine.toml: not UTF-8 text (byte {at}); TOML is UTF-8: save the file again as UTF-8")


def test_a_window_before_sentinel2_says_the_mission_had_not_begun(user, flow_archive):
    """A claim about spring 2014 (Sentinel-1A was launched that April, Sentinel-2A in June 2015): an archive
    holds no Sentinel-2 scene before its window, and the refusal says why rather than only 'no scene'."""
    args = seeds(user.home, window="{ start = 2014-03-01, end = 2014-06-30 }")
    result = user("run", "--claim", "my-claim", "--aoi", "demo-nantes-port", "--source", flow_archive.url,
                  "--out", "out", *args)
    assert result.returncode == 1, result.output
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: no scene over AOI 'demo-nantes-port' on or before 2014-03-01 within 365 days in ")
    assert line.endswith("; Sentinel-2's first satellite was launched on 2015-06-23: no scene of it is older"), line
    assert not (user.home / "out").exists()

    searched = user("scenes", "search", "--aoi", "demo-nantes-port", "--from", "2013-01-01", "--to", "2015-01-01",
                    "--source", flow_archive.url, "--aoi-dir", str(REPO / "aoi"))
    assert searched.returncode == 0, searched.output
    assert ("none between 2013-01-01 and 2015-01-01; Sentinel-2's first satellite was launched on 2015-06-23: no "
            "scene of it is older") in " ".join(searched.stdout.split())


def test_a_claims_file_saved_as_txt_is_named_not_ignored(user):
    """Notepad saves 'mine.toml' as 'mine.toml.txt' unless 'All files' is chosen, and Windows hides the '.txt':
    the claim was 'unknown', the file never mentioned."""
    args = seeds(user.home)
    (user.home / "seeds" / "mine.toml").rename(user.home / "seeds" / "mine.toml.txt")
    assert refusal(user("claims", "list", *args), "seeds/mine.toml.txt") == (
        "Error: seeds/mine.toml.txt: not read: a claims file's name ends in .toml (rename it mine.toml)")
    # the claim asked for by id: the file that may hold it is named
    asked = user("run", "--claim", "my-claim", "--aoi", "demo-nantes-port", "--source", "demo", "--out", "out", *args)
    assert refusal(asked, "seeds/mine.toml.txt").endswith("(rename it mine.toml)")
    assert not (user.home / "out").exists()


WINDOW = "{ start = 2024-10-08, end = 2024-10-13 }"


@pytest.mark.parametrize("zone, says", [
    ('"Asia/Vladivostock"', "claim 'my-claim': field 'time_zone': unknown time zone 'Asia/Vladivostock' (did you "
     "mean 'Asia/Vladivostok'?); give an IANA name like 'Asia/Vladivostok', 'UTC', or an offset like '+09:00'"),
    ('"+15:00"', "claim 'my-claim': field 'time_zone': time zone offset '+15:00' is out of range (-14:00 to +14:00)"),
    ("9", "claim 'my-claim': field 'time_zone' must be an IANA name like 'Asia/Vladivostok', 'UTC', or an offset "
     "like '+09:00', got 9"),
])
def test_a_time_zone_that_names_no_zone_is_refused_in_one_line(user, zone, says):
    line = refusal(user("claims", "list", *seeds(user.home, window=f"{WINDOW}\ntime_zone = {zone}")))
    assert line.endswith(says), line


@pytest.mark.parametrize("zone", ["Asia/Vladivostok", "+10:00", "UTC"])
def test_a_time_zone_is_taken_and_listed(user, zone):
    result = user("claims", "list", "--json", *seeds(user.home, window=f'{WINDOW}\ntime_zone = "{zone}"'))
    assert result.returncode == 0, result.output
    [claim] = json.loads(result.stdout)
    assert claim["time_zone"] == zone and claim["window"] == {"start": "2024-10-08", "end": "2024-10-13"}


def test_a_claims_time_zone_keeps_the_list_readable_at_80_columns(user):
    """The window column is never wrapped (its dates are what other commands take); a claim's zone written
    after them on the same line widened it by the zone's length and squeezed the other columns into
    fragments at 80 columns ('asse' / 'rt'). The zone has a line of its own below the dates."""
    args = seeds(user.home, window='{ start = 2016-01-01, end = 2017-06-30 }\ntime_zone = "Asia/Vladivostok"')
    result = user("claims", "list", *args, columns=100)
    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 100, result.stdout
    [row] = [i for i, line in enumerate(lines) if "my-claim" in line]
    assert "│ 2016-01-01..2017-06-30 │" in lines[row] and "│ assert │" in lines[row], result.stdout
    assert "│ (Asia/Vladivostok)" in lines[row + 1], result.stdout
    # at 80 columns the AOI id beside them no longer fits whole: a block, its lines within the width
    narrow = user("claims", "list", *args, columns=80).stdout
    assert max(map(len, narrow.splitlines())) <= 80, narrow
    assert "my-claim (assert, observable)\n  window   2016-01-01..2017-06-30 (Asia/Vladivostok)\n" in narrow


@pytest.mark.parametrize("where, says", [
    # a zone for every claim of the source, in its [document] table: it was taken without a word and not read,
    # the windows counted in the place's mean solar time
    ("document", "Error: seeds/mine.toml: [document] time_zone is not read: give time_zone = \"Asia/Tokyo\" in each "
                 "[[claim]] whose window counts that zone's days"),
    ("window", "Error: seeds/mine.toml claim 'my-claim': window takes 'start' and 'end' dates, not 'time_zone' "
               "(time_zone = \"Asia/Tokyo\" is a key of the claim, on a line of its own)"),
])
def test_a_time_zone_put_where_it_is_not_read_is_refused(user, where, says):
    args = seeds(user.home)
    mine = user.home / "seeds" / "mine.toml"
    text = mine.read_text(encoding="utf-8")
    if where == "document":
        text = text.replace('title = "My notes"', 'title = "My notes"\ntime_zone = "Asia/Tokyo"')
    else:
        text = text.replace("end = 2017-06-30 }", 'end = 2017-06-30, time_zone = "Asia/Tokyo" }')
    mine.write_text(text, encoding="utf-8")
    assert refusal(user("claims", "list", *args)) == says


@pytest.mark.parametrize("edit, says", [
    # a claim without its id line said "claim 'id' must be a lower-case slug ..., got None"
    (('id = "my-claim"\n', ""), "seeds/mine.toml: a [[claim]] has no 'id' (the one stating 'Cranes arrived on the "
                                  "island.'): give it a lower-case slug such as 'my-claim'"),
    # lists with an entry twice were taken, and carried twice into claims.json and the report
    (('aoi_ids = ["demo-nantes-port"]', 'aoi_ids = ["demo-nantes-port", "demo-nantes-port"]'),
     "seeds/mine.toml claim 'my-claim': field 'aoi_ids' lists 'demo-nantes-port' twice"),
    (('signatures = ["new_construction"]', 'signatures = ["new_construction", "earthworks", "new_construction"]'),
     "seeds/mine.toml claim 'my-claim': field 'signatures' lists 'new_construction' twice"),
])
def test_a_claim_without_its_id_or_with_an_id_listed_twice_says_which(user, edit, says):
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    path.write_text(path.read_text().replace(*edit))
    assert refusal(user("claims", "list", *args)) == f"Error: {says}"


def test_a_stance_in_capitals_is_suggested_in_lower_case(user):
    """'Assert' was refused without a hint, where an unknown signature or AOI id gets one."""
    args = seeds(user.home)
    path = user.home / "seeds" / "mine.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('signatures', 'stance = "Assert"\nsignatures'), encoding="utf-8")
    assert refusal(user("claims", "list", *args)).endswith(
        "claim 'my-claim': stance must be 'assert' or 'deny', got 'Assert' (did you mean 'assert'?)")


def test_a_claims_file_in_a_subfolder_is_named_not_ignored(user):
    """Claims kept by year ('seeds/2024/mine.toml'): only seeds/ itself is read, so `geo claims list` listed
    nothing, exit 0, and `--claim my-claim` was 'unknown'. The file is named, with where it is read from."""
    args = seeds(user.home)
    (user.home / "seeds" / "2024").mkdir()
    (user.home / "seeds" / "mine.toml").rename(user.home / "seeds" / "2024" / "mine.toml")
    assert refusal(user("claims", "list", *args), "seeds/2024/mine.toml") == (
        "Error: seeds/2024/mine.toml: not read: claims files are read from seeds itself, not its subfolders "
        "(move it to seeds)")
    asked = user("run", "--claim", "my-claim", "--aoi", "demo-nantes-port", "--source", "demo", "--out", "out", *args)
    assert refusal(asked, "seeds/2024/mine.toml").endswith("not its subfolders (move it to seeds)")
    assert not (user.home / "out").exists()
    (user.home / "seeds" / "2024" / "mine.toml").rename(user.home / "seeds" / "mine.toml")
    listed = user("claims", "list", "--json", *args)
    assert listed.returncode == 0 and listed.stderr == "", listed.output
    assert [claim["id"] for claim in json.loads(listed.stdout)] == ["my-claim"]


@pytest.mark.parametrize("stated, window, says", [
    # written as TOML wants, yet no day: "is not a TOML date: write YYYY-MM-DD, e.g. 2024-10-08", which it was
    ("2024-10-32", "{ start = 2016-01-01, end = 2017-06-30 }",
     "(at line 8, column 19)); 2024-10-32 is no day of the calendar: October 2024 has 31 days"),
    ("2017-10-31", "{ start = 2015-02-29, end = 2017-06-30 }",
     "(at line 10, column 20)); 2015-02-29 is no day of the calendar: February 2015 has 28 days"),
    ("2024-13-01", "{ start = 2016-01-01, end = 2017-06-30 }",
     "(at line 8, column 19)); 2024-13-01 is no day of the calendar: there is no month 13"),
    ("32/10/2024", "{ start = 2016-01-01, end = 2017-06-30 }",
     "; 32/10/2024 is not a TOML date: write YYYY-MM-DD; and October 2024 has 31 days"),
    ('"2024-10-32"', "{ start = 2016-01-01, end = 2017-06-30 }",  # a string: "day is out of range for month"
     "claim 'my-claim': field 'date_stated' '2024-10-32' is not a valid date (October 2024 has 31 days)"),
])
def test_a_day_the_calendar_lacks_says_so(user, stated, window, says):
    line = refusal(user("claims", "list", *seeds(user.home, stated, window)))
    assert line.endswith(says), line


@pytest.mark.parametrize("edit, says", [
    # TOML's words were all: "Invalid value", "Unclosed array", "Unclosed inline table" at a column
    (('claimant = "Someone"', "claimant = Kim Jong Un"),
     "(Invalid value (at line 6, column 12)); text is written in double quotes: claimant = \"Kim Jong Un\""),
    (('aoi_ids = ["demo-nantes-port"]', "aoi_ids = [demo-nantes-port]"),
     "(Invalid value (at line 9, column 12)); text is written in double quotes: aoi_ids = [\"demo-nantes-port\"]"),
    (('signatures = ["new_construction"]', 'signatures = ["new_construction" "earthworks"]'),
     "(Unclosed array (at line 11, column 34)); the entries of a list are separated by commas: "
     "[\"new_construction\", \"earthworks\"]"),
    (("start = 2016-01-01, end", "start = 2016-01-01 end"),
     "(Unclosed inline table (at line 10, column 31)); the entries of an inline table are separated by commas: "
     "window = { start = 2024-10-08, end = 2024-10-13 }"),
    # TOML's "Cannot declare ('claim', 'window') twice" named a tuple, not the slip
    (("signatures", "[claim.window]\nstart = 2016-02-01\nend = 2016-03-01\n\n[[claim]]\nsignatures"),
     "(Cannot declare ('claim', 'window') twice (at line 11, column 14)); 'window' is given twice: once is enough, "
     "as window = { ... } or as its own table"),
    (("signatures", "window.start = 2016-02-01\nsignatures"),
     "(Cannot mutate immutable namespace ('claim', 'window') (at line 11, column 26)); 'window' is given twice: once "
     "is enough, as window = { ... } or as its own table"),
    (('title = "My notes"', 'title = "My notes"\n[document]\nurl = "https://example.org"'),
     "(Cannot declare ('document',) twice (at line 3, column 10)); [document] is given twice: a file holds one, with "
     "each [[claim]] after it"),
    # the claim's names for the source put in [document]: taken without a word, every claim's source_url ''
    (('title = "My notes"', 'title = "My notes"\nsource_url = "https://example.org/a"'),
     'seeds/mine.toml: [document] source_url is not read: the document\'s is url = "https://example.org/a" '
     "(source_url is a claim's own)"),
    (('title = "My notes"', 'title = "My notes"\nsource = "Yonhap"'),
     'seeds/mine.toml: [document] source is not read: the document\'s is title = "Yonhap" (source is a claim\'s own)'),
])
def test_a_value_table_or_key_written_another_way_says_what_the_file_wants(user, edit, says):
    line = refusal(user("claims", "list", *edited_seeds(user.home, *edit)))
    assert line.endswith(says), line


@pytest.mark.parametrize("lines, says", [
    # demo-nantes.toml copied (stance = "assert") and given the claims it denies: taken, and judged as an
    # assertion, its 'denies' read only to bring the denied claims into the job
    ('stance = "assert"\ndenies = ["demo-nantes-construction"]',
     "claim 'my-claim': 'denies' is given but the stance is 'assert': a denial is stance = \"deny\" (or drop "
     "'denies')"),
    ('stance = "deny"\ndenies = ["my-claim"]', "claim 'my-claim': the claim denies itself (its own id 'my-claim' is "
                                               "in 'denies')"),
])
def test_a_denial_that_cannot_be_judged_as_one_is_refused(user, lines, says):
    args = edited_seeds(user.home, "signatures", f"{lines}\nsignatures")
    assert refusal(user("claims", "list", *args)).endswith(says)


def test_a_claim_stated_in_the_future_is_refused_as_a_year_mistyped(user):
    """'2042-10-18' for 2024-10-18 was taken: no claim is made after today."""
    line = refusal(user("claims", "list", *seeds(user.home, stated="2099-10-18")))
    assert " claim 'my-claim': field 'date_stated' 2099-10-18 is in the future (today is " in line, line
    assert line.endswith("): a year mistyped? It is the day the claim was made or reported"), line
