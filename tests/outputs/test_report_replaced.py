"""``geo report RUN_DIR`` while a new run replaces RUN_DIR (a scheduled ``geo run --out RUN_DIR`` finishing while an
analyst rebuilds the report): the report read the old run, then wrote its report.html into the new run's folder,
whose report then described another area than its manifest (or a mix of both, read half before the swap and half
after). A report is now made again from the folder as it is when the folder changed while it was made."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from geo.rename_exchange import rename_exchange
from geo.cli import cli
from geo.outputs import report


def test_a_report_made_while_a_new_run_replaces_the_folder_describes_the_run_in_it(demo_output, synthetic_output,
                                                                                    tmp_path, monkeypatch):
    folder = tmp_path / "run"
    shutil.copytree(synthetic_output, folder)  # the previous run: the synthetic test site
    (folder / "report.html").unlink()
    staged = tmp_path / ".run.4242-0badc0de.partial"
    shutil.copytree(demo_output, staged)  # the new run, of the demo's Nantes port, about to be swapped in
    real_render = report.render_report
    swaps = []

    def swapped_meanwhile(runs, **kwargs):
        html = real_render(runs, **kwargs)
        if not swaps:  # the new run is swapped into place as this report is about to be written
            swaps.append(rename_exchange(staged, folder))
            shutil.rmtree(staged)
        return html

    monkeypatch.setattr(report, "render_report", swapped_meanwhile)
    result = CliRunner().invoke(cli, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert swaps == [True]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="aoi-demo-nantes-port"' in html and 'id="aoi-test-site"' not in html
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
