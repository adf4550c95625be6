"""Every label of the statistic comes from the detector that ran: the default ``local-fusion`` run says
mean |z| and the seed level it applied (threshold × seed factor), never χ², degrees of freedom or the
chi-square significance settings it does not use; a chi-square run keeps its own. Provenance names no
path of this machine."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from geo.aoi import load_aoi
from geo.change.detectors.local_fusion import LocalFusionParams
from geo.claim_files import load_claims
from geo.jobs.kit import ChangeJob
from geo.jobs.optical_kit import OpticalKit, Params
from geo.jobs.spine import run_job
from geo.outputs.writers import write_run
from geo.scenes.source import LocalCatalog
from tests.conftest import REPO

CHI_SQUARE_WORDS = ("χ²", "chi-square", "degrees of freedom", "α =", "<dt>alpha", "alpha grow")


TEXT_SUFFIXES = {".html", ".json", ".geojson", ".qml", ".csv", ".kml", ".svg"}


def _texts(folder):
    """Every text file of the run folder (the vessel job's too, when it ran)."""
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.suffix in TEXT_SUFFIXES}


def _ramp_labels(qml: str) -> list[str]:
    return [item.get("label") for item in ET.fromstring(qml.split("\n", 1)[1]).iter("item")]


@pytest.mark.parametrize("run", ["synthetic_output", "demo_output"])
def test_default_run_is_labelled_as_such(run, request):
    folder = request.getfixturevalue(run)
    texts = _texts(folder)
    html = texts["report.html"]
    shipped = LocalFusionParams.shipped()
    seed = shipped.threshold * shipped.seed_factor
    statistic = json.loads(texts["manifest.json"])["statistic"]
    assert statistic["threshold_seed"] == pytest.approx(seed) == pytest.approx(3.3)
    assert statistic["threshold_grow"] == pytest.approx(shipped.threshold)
    assert "Score (mean |z|)" in html
    assert f"{seed:.3g} mean |z|: seed level ({shipped.seed_factor:g} × detection)" in html
    assert f"{shipped.threshold:.3g} mean |z|: detection level" in html
    assert f"{2 * shipped.threshold:.3g} mean |z|: strong level (2 × detection)" in html
    assert "local-regression residual of the red band, minimum over windows 48/96 px × σ 1/2 px" in html
    for word in CHI_SQUARE_WORDS:
        assert word not in html, word
    assert "seed threshold" not in html and "None" not in re.sub(r"<[^>]+>", " ", html).split()
    labels = _ramp_labels(texts["change_statistic.qml"])
    assert f"{seed:.3g} mean |z|: seed level ({shipped.seed_factor:g} × detection)" in labels
    assert not any("χ²" in label or "threshold" in label for label in labels)


@pytest.mark.parametrize("run", ["synthetic_output", "demo_output", "port_run_output"])
def test_provenance_names_no_path_of_this_machine(run, request, tmp_path_factory):
    folder = request.getfixturevalue(run)
    machine = {str(REPO), str(tmp_path_factory.getbasetemp()), str(folder), "/tmp/", "/home/", "/root/"}
    texts = _texts(folder)
    # Except item.json's links to the source scenes' STAC items: a catalog sharing no folder with the run is
    # linked by its items' file URIs, which STAC tools resolve (tests/outputs/test_stac_item.py).
    item = json.loads(texts["item.json"])
    item["links"] = [link for link in item["links"] if link["rel"] != "derived_from"]
    texts["item.json"] = json.dumps(item)
    for name, text in texts.items():
        for path in machine:
            assert path not in text, (name, path)
    source = json.loads((folder / "manifest.json").read_text())["scenes"]["selection"]["source"]
    assert source == {"synthetic_output": "scenes/catalog.json", "demo_output": "scenes/demo/catalog.json",
                      "port_run_output": "scenes/catalog.json"}[run]
    assert f"<dt>Scene source</dt><dd>{source}</dd>" in (folder / "report.html").read_text()


def test_a_chi_square_run_keeps_its_own_labels(synthetic_project, tmp_path):
    aoi = load_aoi(synthetic_project.aoi_dir / "test-site.geojson")
    claims = tuple(load_claims(synthetic_project.seeds_dir).values())
    source = LocalCatalog(synthetic_project.catalog)
    job = ChangeJob(aoi, claims, source.get("S2A_TEST_20200301"), source.get("S2A_TEST_20200801"))
    write_run(run_job(job, OpticalKit(Params(method="cva-chi2"))), tmp_path / "out")
    texts = _texts(tmp_path / "out")
    html = texts["report.html"]
    statistic = json.loads(texts["manifest.json"])["statistic"]
    assert statistic["dof"] == 6 and statistic["method"] == "cva-chi2"
    assert "Score (χ²)" in html and "6 degrees of freedom" in html
    assert f"{statistic['threshold_seed']:.3g} χ²: seed level (α = 0.0001)" in html
    assert f"{statistic['threshold_grow']:.3g} χ²: grow level (α = 0.01)" in html
    assert "<dt>Detector: significance of a seed pixel</dt><dd>0.0001</dd>" in html
    assert "mean |z|" not in html
    labels = _ramp_labels(texts["change_statistic.qml"])
    assert f"{statistic['threshold_seed']:.3g} χ²: seed level (α = 0.0001)" in labels


def test_portable_paths_keep_urls_and_drop_the_machine():
    from geo.outputs.provenance import portable, portable_path

    assert portable_path("https://earth-search.aws.element84.com/v1") == "https://earth-search.aws.element84.com/v1"
    assert portable_path("earth-search") == "earth-search"
    assert portable_path("/home/analyst/work/my-scenes/catalog.json") == "my-scenes/catalog.json"
    assert portable_path("file:///home/analyst/cache/S2B_X/B04.tif") == "S2B_X/B04.tif"
    assert portable_path(str(REPO / "scenes" / "demo" / "catalog.json")) == "scenes/demo/catalog.json"
    assert portable({"a": ["/srv/x/y/z.tif", 3, None]}) == {"a": ["y/z.tif", 3, None]}
    # inside messages too (a warning naming the catalog searched), leaving URLs, units and band pairs alone
    assert portable("no s1/s2 scene in /home/analyst/p/scenes/catalog.json. See https://a.org/b/c, 10 km/h") == (
        "no s1/s2 scene in scenes/catalog.json. See https://a.org/b/c, 10 km/h")
