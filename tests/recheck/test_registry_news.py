"""A cron user reads the --on-new command's mail (or the --notify webhook's channel), not the log: a run that retired
an AOI or a claim (``geo.recheck.retire``) said so only on the terminal and in summary.json, and ran no --on-new
command (the run had no "news"), so the team never learnt that an AOI had left the re-checks. Now such a run is
news: the command runs, its text (and the webhook's) says what was retired or taken up again."""

from __future__ import annotations

import json

from geo.recheck import notify, retire


def test_an_aoi_retired_reaches_the_on_new_command_and_its_text(first_run, geo_cli, tmp_path):
    series, store = first_run
    (series.aoi_dir / "site-c.geojson").unlink()
    hook = tmp_path / "hook"
    command = f'cat > {hook}.json; printf "%s" "$GEO_RECHECK_TEXT" > {hook}.txt'
    result = geo_cli(*series.args(store, "--on-new", command))
    assert result.returncode == 0 and result.stdout.startswith("run 2: 0 new pairs"), result.stdout + result.stderr
    summary = json.loads((tmp_path / "hook.json").read_text())
    assert summary["has_new"] and [e["aoi_id"] for e in summary["aois_retired"]] == ["site-c"]
    text = (tmp_path / "hook.txt").read_text().splitlines()
    assert text[0] == "geo recheck run 2: 0 new changes (none), 0 verdicts changed, 1 AOI retired"
    assert ("• site-c: retired: no file of aoi/ defines it (removed, or its id changed); no longer re-checked, its "
            "results kept in the store, marked (aois.retired_run = 2); its file back in aoi/ takes it up again") in text
    (tmp_path / "hook.json").unlink()
    idle = geo_cli(*series.args(store, "--on-new", command))  # said once: no command for a run with nothing new
    assert idle.returncode == 0 and idle.stdout.startswith("nothing new"), idle.stdout + idle.stderr
    assert not (tmp_path / "hook.json").exists()


def test_a_claim_retired_is_in_the_webhook_body():
    summary = {"run_id": 3, "new_changes_by_type": {}, "n_new_changes": 0, "failed_aois": [], "verdicts": [],
               "claims_retired": [{"claim_id": "a-build", "aoi_ids": ["site-a"],
                                   "why": "in no seeds file (deleted, or its id changed)"}],
               "claims_moved_off": [{"claim_id": "b-build", "aoi_id": "site-b"}]}
    text = notify._lines(summary, [], [], {})
    assert text.splitlines()[0] == ("geo recheck run 3: 0 new changes (none), 0 verdicts changed, 1 claim retired, "
                                    "1 claim moved off an AOI")
    assert ("• claim a-build: retired: in no seeds file (deleted, or its id changed); its verdicts and linked changes "
            "on site-a kept in the store, marked (claims.retired_run = 3)") in text
    assert retire.registry_news(summary) == {k: summary[k] for k in ("claims_retired", "claims_moved_off")}
