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
