"""A team's registry grown over months: claims answering claims (a denial, then a rebuttal of the denial),
many claims on one AOI. What the listings and a job say of them, driven as a user drives ``geo``."""

from __future__ import annotations

from tests.conftest import REPO

CHAIN = """[document]
title = "Claims answering claims"

[[claim]]
id = "build"
claimant = "Agency A"
statement = "New construction around the port."
date_stated = 2017-10-31
aoi_ids = ["demo-nantes-port"]
window = { start = 2016-01-01, end = 2017-06-30 }
signatures = ["new_construction", "cleared_land"]

[[claim]]
id = "denial"
claimant = "Ministry B"
statement = "Nothing was built; the reports are fake."
date_stated = 2017-11-02
stance = "deny"
denies = ["build"]
aoi_ids = ["demo-nantes-port"]
window = { start = 2016-01-01, end = 2017-06-30 }
signatures = ["new_construction", "cleared_land"]

[[claim]]
id = "rebuttal"
claimant = "Agency A"
statement = "Ministry B's denial is false: the building went on."
date_stated = 2017-11-05
stance = "deny"
denies = ["denial"]
aoi_ids = ["demo-nantes-port"]
window = { start = 2016-01-01, end = 2017-06-30 }
signatures = ["new_construction", "cleared_land"]
"""


def chain(home) -> tuple[str, ...]:
    (home / "seeds").mkdir()
    (home / "seeds" / "chain.toml").write_text(CHAIN, encoding="utf-8")
    return ("--seeds-dir", "seeds", "--aoi-dir", str(REPO / "aoi"))


def test_a_denial_of_a_denial_is_refused_saying_to_write_it_as_an_assertion(user):
    """A rebuttal written as a denial of the denial was taken and judged as a denial of what it says happened:
    on the demo pair, where the construction shows, 'rebuttal' got 'inconsistent with the denial' from the very
    changes that support it."""
    args = chain(user.home)
    listed = user("claims", "list", *args)
    assert listed.returncode == 1 and listed.stdout == "", listed.output
    assert "Traceback" not in listed.output
    line, = listed.stderr.strip().splitlines()
    assert line == ("Error: seeds/chain.toml: claim 'rebuttal' denies 'denial', itself a denial: a claim that a "
                    "denial is false asserts what was denied; write it as stance = \"assert\" (without 'denies') "
                    "with the signatures of what it says happened"), line
    # a job on its AOI stops before any work; a look at another claim only warns
    run = user("run", "--aoi", "demo-nantes-port", "--source", "demo", "--out", "out", *args)
    assert run.returncode == 1 and "claim 'rebuttal' denies 'denial', itself a denial" in run.stderr, run.output
    assert not (user.home / "out").exists()
    shown = user("claims", "show", "build", *args)
    assert shown.returncode == 0 and '"id": "build"' in shown.stdout, shown.output
    assert "warning: seeds/chain.toml: claim 'rebuttal' denies 'denial', itself a denial" in shown.stderr
    # written as the assertion it is, the chain is taken
    fixed = CHAIN.replace('stance = "deny"\ndenies = ["denial"]\n', "")
    (user.home / "seeds" / "chain.toml").write_text(fixed, encoding="utf-8")
    listed = user("claims", "list", *args, columns=80)
    assert listed.returncode == 0 and "rebuttal (assert, observable)" in listed.stdout, listed.output


def grown(home, n_aois: int = 60) -> tuple[str, ...]:
    """A registry of ``n_aois`` AOIs (inside the demo scenes) and two claims on each."""
    import json

    (home / "aoi").mkdir()
    (home / "seeds").mkdir()
    claims = ['[document]\ntitle = "A grown registry"\n']
    for i in range(n_aois):
        x, y = -1.57 + 0.0005 * i, 47.18
        ring = [[x, y], [x + 0.003, y], [x + 0.003, y + 0.003], [x, y + 0.003], [x, y]]
        (home / "aoi" / f"quay-{i:03d}.geojson").write_text(json.dumps({
            "type": "Feature", "properties": {"id": f"quay-{i:03d}", "name": f"Quay {i}", "kind": "port"},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}))
        for j in range(2):
            claims.append(f'[[claim]]\nid = "quay-{i:03d}-report-{j}"\nclaimant = "A"\nstatement = "Works."\n'
                          f'date_stated = 2017-10-31\naoi_ids = ["quay-{i:03d}"]\n'
                          'window = { start = 2016-01-01, end = 2017-06-30 }\nsignatures = ["new_construction"]\n')
    (home / "seeds" / "grown.toml").write_text("\n".join(claims))
    return ("--aoi-dir", "aoi", "--seeds-dir", "seeds")


def test_an_unknown_id_in_a_grown_registry_is_one_readable_line(user):
    """With 60 AOIs and 120 claims an id typed wrong was answered by every id known, in one line of 1,000 to
    2,500 characters (3,500 and 5,900 with 200 AOIs and 500 claims): the nearest ids are named, and how many more
    there are, with the command listing them all."""
    args = grown(user.home)
    for command, noun, listing in ((("run", "--aoi", "quay-7", "--out", "o"), "AOIs", "geo aoi list"),
                                   (("aoi", "show", "quay-7", "--aoi-dir", "aoi"), "AOIs", "geo aoi list"),
                                   (("recheck", "--store", "s.gpkg", "--aoi", "quay-7"), "AOIs", "geo aoi list"),
                                   (("claims", "show", "quay-007-report"), "claims", "geo claims list"),
                                   (("run", "--aoi", "quay-007", "--claim", "quay-007-report", "--out", "o"), "claims",
                                    "geo claims list")):
        full = command + (args if command[0] != "aoi" else ())
        result = user(*full)
        assert result.returncode == 1, result.output
        line, = result.stderr.strip().splitlines()
        assert len(line) < 400, line
        assert "did you mean" in line and f"{'120' if noun == 'claims' else '60'} {noun}" in line, line
        assert "quay-007" in line and f"all: `{listing}`" in line, line
        assert not (user.home / "o").exists() and not (user.home / "s.gpkg").exists()
    # a registry of a few ids still names them all
    few = user("aoi", "show", "quay", "--aoi-dir", str(REPO / "aoi"))
    assert few.returncode == 1 and "known in " in few.stderr and "vladivostok-port" in few.stderr, few.output
    assert "geo aoi list" not in few.stderr


def test_a_run_on_an_area_named_by_many_claims_tallies_the_verdicts_before_listing_them(user):
    """A run on an AOI named by 74 claims printed 74 verdict lines of 200 to 600 characters each, in the seeds'
    order: a 'consistent with the claim' was found only by reading them all. A line before them tallies them."""
    args = grown(user.home, n_aois=3)
    ran = user("run", "--aoi", "quay-001", "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
               "--out", "out", *args)
    assert ran.returncode == 0, ran.output
    lines = ran.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  claim "))
    verdicts = [line.split(": ", 1)[1].split(" — ")[0] for line in lines[first:first + 2]]
    tally = ", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts))
    assert lines[first - 1] == f"2 claims: {tally}", ran.stdout
    assert all(line.startswith("  claim quay-001-report-") for line in lines[first:first + 2]), ran.stdout


def test_a_report_of_several_areas_tallies_the_verdicts_and_links_each_area(user):
    """A report of 10 runs listed 128 verdicts in one table with no count, and nothing led to an area's section
    but scrolling past the table and the cards of the areas before it: the table is tallied, and its area
    cells link to their sections."""
    import re

    args = grown(user.home, n_aois=3)
    for aoi in ("quay-001", "quay-002"):
        ran = user("run", "--aoi", aoi, "--source", "demo", "--before", "2015-08-21", "--after", "2017-10-14",
                   "--out", aoi, *args)
        assert ran.returncode == 0, ran.output
    made = user("report", "quay-001", "quay-002", "--out", "both.html")
    assert made.returncode == 0, made.output
    html = (user.home / "both.html").read_text(encoding="utf-8")
    summary = html[html.index('id="summary"'):html.index("</tbody>")]
    verdicts = re.findall(r'<span class="badge[^"]*"[^>]*>([^<]+?) <span class="badge-conf"', summary)
    assert len(verdicts) == 4, summary
    tally = ", ".join(f"{verdicts.count(v)} {v}" for v in sorted(dict.fromkeys(verdicts), key=lambda v: -verdicts.count(v)))
    assert f'<p class="tally">4 verdicts: {tally}</p>' in summary, summary
    for aoi in ("quay-001", "quay-002"):
        assert summary.count(f'<td><a href="#aoi-{aoi}">{aoi}</a></td>') == 2, summary
        assert f'<section class="panel" id="aoi-{aoi}">' in html


def test_a_run_refused_for_one_claims_window_names_that_claim(user):
    """30 claims of 2016 on an area and one of 2024: `geo run --aoi` (the pair brackets every claim's window)
    was refused 'no scene ... on or after 2024-06-30', naming neither the claim whose window that is nor what
    to do, in a registry where the analyst had not written that claim."""
    args = grown(user.home, n_aois=1)
    with (user.home / "seeds" / "grown.toml").open("a") as seeds:
        seeds.write('\n[[claim]]\nid = "quay-000-later"\nclaimant = "B"\nstatement = "More works."\n'
                    'date_stated = 2024-12-31\naoi_ids = ["quay-000"]\n'
                    'window = { start = 2024-03-01, end = 2024-06-30 }\nsignatures = ["new_construction"]\n')
    ran = user("run", "--aoi", "quay-000", "--source", "demo", "--out", "o", *args)
    assert ran.returncode == 1, ran.output
    line, = ran.stderr.strip().splitlines()
    assert line.startswith("Error: no scene over AOI 'quay-000' on or after 2024-06-30"), line
    assert line.endswith("; 2024-06-30 ends the window of claim 'quay-000-later', the latest of the 3 claims on the "
                         "AOI: run on the others with --claim, or give --before and --after"), line
    assert not (user.home / "o").exists()
