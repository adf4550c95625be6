"""A re-check capped by ``--max-pairs``: the AOI's line said "1 deferred", not to when nor why (the cap reached? an
error?), and the mail said nothing of it. Now the terminal and the mail say the scenes wait for the next run, and
that --max-pairs left them."""

from __future__ import annotations

import json

from tests.flows.test_recheck_skip_reasons import AOI, WORDS, archive  # noqa: F401  (the autumn's archive, a fixture)

WAITING = "1 scene deferred to the next run (--max-pairs reached)"


def test_a_capped_run_says_its_scenes_wait_for_the_next_run(user, archive):  # noqa: F811
    shell = user("recheck", "--aoi", AOI, "--store", "s.gpkg", "--source", archive.url, "--since", "2024-10-05",
                 "--sensor", "s2", "--max-pairs", "4", "--on-new", 'printf "%s" "$GEO_RECHECK_TEXT" > mail.txt')
    assert shell.returncode == 0, shell.output
    line, = [line for line in shell.stdout.splitlines() if line.startswith(f"  {AOI}: baseline")]
    assert f", {WAITING}; head S2A_{AOI}_e-changed" in line, line
    summary = json.loads((user.home / "s-outputs" / "runs" / "000001" / "summary.json").read_text())
    assert summary["aois"][0]["deferred_scenes"] == 1
    mail = (user.home / "mail.txt").read_text().splitlines()
    assert f"• {AOI}: {WORDS}; {WAITING}" in mail, mail

    again = user("recheck", "--store", "s.gpkg", "--sensor", "s2", "--max-pairs", "4")
    assert again.returncode == 0, again.output
    assert f"  {AOI}: 1 pair, 0 changes; head S2A_{AOI}_f-later" in again.stdout.splitlines(), again.stdout
