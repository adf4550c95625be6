"""``geo`` installed from a wheel (``pip install git+...``, ``pip install .``: not editable), run from a folder of
the user's that holds no aoi/, seeds/ or scenes/: the shipped registry, claims and demo scenes come with the
package, and the scene cache goes to the user's cache folder, not among the package's files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.flows.conftest import Shell


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from the checkout (build isolation, as for any user)."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(folder), str(REPO)],
                   check=True, capture_output=True, timeout=600)
    (built,) = folder.glob("geo_change_workbench-*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a folder of its own, as into a site-packages (its dependencies are this
    environment's)."""
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return target


@pytest.fixture
def installed_user(site: Path, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    env = {name: value for name, value in os.environ.items()
           if name not in {"GEO_ROOT", "GEO_SCENE_CACHE", "GEO_DEBUG", "PYTHONPATH"}}
    env.update({"PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "200"})

    def run(*args: str) -> Shell:
        proc = subprocess.run([sys.executable, "-m", "geo", *args], capture_output=True, text=True, cwd=home, env=env,
                              timeout=600)
        return Shell(proc.returncode, proc.stdout, proc.stderr)

    run.home = home  # type: ignore[attr-defined]
    run.cache = tmp_path / "cache"  # type: ignore[attr-defined]
    return run


def test_the_wheel_holds_every_module_of_the_checkout(wheel: Path):
    # pyproject.toml lists the packages (the shipped data is mapped in): a package folder left off the list
    # would be missing from every non-editable install.
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(REPO).as_posix() for path in (REPO / "geo").rglob("*.py")}
    assert modules - names == set()


def test_an_installed_geo_lists_the_shipped_registry_and_claims(installed_user, site: Path):
    aois = installed_user("aoi", "list", "--json")
    assert aois.returncode == 0, aois.output
    shipped_aois = sorted(json.loads(path.read_text())["properties"]["id"] for path in (REPO / "aoi").glob("*.geojson"))
    assert sorted(a["id"] for a in json.loads(aois.stdout)) == shipped_aois
    assert "chongjin-port" in shipped_aois and "demo-nantes-port" in shipped_aois

    claims = installed_user("claims", "list", "--json")
    assert claims.returncode == 0, claims.output
    ids = {c["id"] for c in json.loads(claims.stdout)}
    assert "demo-nantes-construction" in ids and len(ids) >= 5

    shown = installed_user("aoi", "show", "chongjin-port")
    assert shown.returncode == 0, shown.output
    assert json.loads(shown.stdout)["name"] == "Chongjin port"
    assert str(site) in installed_user("aoi", "show", "chongjin").stderr  # the folder it looked in: the package's


def test_an_installed_geo_runs_the_demo_from_the_users_folder(installed_user, site: Path):
    before = sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts)
    demo = installed_user("demo")
    assert demo.returncode == 0, demo.output
    out = installed_user.home / "demo-output"
    verdicts = json.loads((out / "claims.json").read_text())
    assert [(v["claim_id"], v["verdict"]) for v in verdicts] == [("demo-nantes-construction", "consistent with the claim")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenes"]["selection"]["source"] == "scenes/demo/catalog.json"  # portable, as from a checkout
    # The scenes' STAC items are linked by their file URIs in the package (it was a relative path climbing from
    # the user's folder into site-packages, broken as soon as the run folder moved).
    import pystac

    item = pystac.Item.from_file(str(out / "item.json"))
    ids = [manifest["scenes"]["before"]["id"], manifest["scenes"]["after"]["id"]]
    shipped = site / "geo" / "_shipped" / "scenes" / "demo"
    assert [link.href for link in item.get_links("derived_from")] == [(shipped / i / f"{i}.json").as_uri() for i in ids]
    assert [link.resolve_stac_object().target.id for link in item.get_links("derived_from")] == ids
    after = sorted(p.relative_to(site) for p in site.rglob("*") if "__pycache__" not in p.parts)
    assert after == before  # nothing written among the package's files


def test_an_installed_geo_keeps_its_scene_cache_in_the_users_cache_folder(installed_user, site: Path):
    listed = installed_user("scenes", "cache", "list", "--json")
    assert listed.returncode == 0, listed.output
    assert json.loads(listed.stdout)["root"] == str(installed_user.cache / "geo" / "scenes")
