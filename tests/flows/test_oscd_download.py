"""``geo eval oscd`` on the user's own OSCD download, laid out as the dataset's archives unpack: the images
archive holds ``<city>/{imgs_1,imgs_2,dates.txt}`` with no labels, the labels archives ("Train Labels",
"Test Labels") hold ``<city>/cm/<city>-cm.tif``. Only the shared data's layout (``<city>/cm.tif``) was read:
every real download was refused as holding no city, and a city named with --cities was read and run before
its missing labels failed it."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.eval.oscd_fixture import write_city

IMAGES = "Onera Satellite Change Detection dataset - Images"
LABELS = "Onera Satellite Change Detection dataset - Train Labels"


def _download(home, cities=("alpha", "beta"), unlabelled=("gamma",)):
    """The images archive with ``cities`` and ``unlabelled`` (a test city whose labels the user lacks), and
    the train labels archive with the labels of ``cities``."""
    images, labels = home / IMAGES, home / LABELS
    for name in (*cities, *unlabelled):
        folder, _ = write_city(images, name, crop_px=0)
        if name in cities:
            (labels / name / "cm").mkdir(parents=True)
            shutil.move(folder / "cm.tif", labels / name / "cm" / f"{name}-cm.tif")
        else:
            (folder / "cm.tif").unlink()
    (images / "train.txt").write_text(",".join(cities) + "\n")
    return images, labels


def test_the_labels_archive_is_given_with_labels(user):
    _download(user.home)
    result = user("eval", "oscd", "--root", IMAGES, "--labels", LABELS, "--json", "scores.json")
    assert result.returncode == 0, result.output
    data = json.loads((user.home / "scores.json").read_text())
    rows = data["methods"]["local-fusion"]["cities"]
    assert [row["city"] for row in rows] == ["alpha", "beta"]
    assert all(row["f1"] >= 0.9 for row in rows), rows
    assert data["labels"] == LABELS
    # the test city without labels is not scored, and the user is told so
    assert "gamma" not in result.stdout
    assert "1 city folder without labels skipped: gamma" in result.stderr


def test_labels_unpacked_into_the_images_folder_are_found(user):
    """The labels archive unpacked over the images one: ``<city>/cm/<city>-cm.tif`` beside ``imgs_1``."""
    images, labels = _download(user.home, unlabelled=())
    shutil.copytree(labels, images, dirs_exist_ok=True)
    result = user("eval", "oscd", "--root", IMAGES, "--cities", "beta", "--json", "scores.json")
    assert result.returncode == 0, result.output
    row = json.loads((user.home / "scores.json").read_text())["methods"]["local-fusion"]["cities"][0]
    assert row["city"] == "beta" and row["f1"] >= 0.9


def test_the_images_archive_alone_says_where_labels_are_wanted(user):
    _download(user.home)
    result = user("eval", "oscd", "--root", IMAGES, "--json", "scores.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"Error: OSCD root {IMAGES} holds no city folder with labels (<city>/cm.tif or <city>/cm/<city>-cm.tif); "
        "its 3 city folders (alpha, beta, gamma) have images only: the OSCD labels come in archives of their own "
        "(Train Labels, Test Labels): give their folder with --labels DIR")
    assert not (user.home / "scores.json").exists()


@pytest.mark.parametrize("separate", [False, True], ids=["labels-in-city-folders", "labels-archive"])
def test_a_named_city_without_labels_is_refused_before_any_work(user, separate):
    """``--cities alpha,gamma``: gamma has no labels. It was found out after alpha and gamma were both read,
    co-registered and run (the labels are read only to score)."""
    if separate:
        _download(user.home)
        where, extra = LABELS, ("--root", IMAGES, "--labels", LABELS)
    else:  # the shared data's layout, one city's cm.tif missing
        for name in ("alpha", "gamma"):
            write_city(user.home / "oscd", name, crop_px=0)
        (user.home / "oscd" / "gamma" / "cm.tif").unlink()
        where, extra = "oscd", ("--root", "oscd")
    result = user("-v", "eval", "oscd", *extra, "--cities", "alpha,gamma", "--json", "scores.json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: OSCD city 'gamma' has no labels: neither {where}/gamma/cm.tif nor {where}/gamma/cm/gamma-cm.tif")
    assert "F1" not in result.stderr  # no city was scored (-v logs each city's F1)
    assert not (user.home / "scores.json").exists()


def test_the_labels_archive_given_as_root_names_the_images_it_lacks(user):
    _download(user.home)
    result = user("eval", "oscd", "--root", LABELS)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"Error: OSCD city 'alpha': no images folder {LABELS}/alpha/imgs_1 (give the images' folder with --root "
        "and the labels' with --labels)")


def test_a_json_path_that_cannot_be_written_is_refused_before_any_work(user):
    """`--json /proc/scores.json` ran every city, then ended in 'internal error: FileNotFoundError'."""
    write_city(user.home / "oscd", "alpha", crop_px=0)
    (user.home / "notes.txt").write_text("mine")
    for path, why in (("/proc/scores.json", "cannot write there (/proc takes no new file"),
                      ("notes.txt/scores.json", "notes.txt/scores.json: ")):
        result = user("-v", "eval", "oscd", "--root", "oscd", "--json", path)
        assert result.returncode == 1, result.output
        assert result.stderr.startswith(f"Error: --json {path}") and why in result.stderr, result.stderr
        assert "F1" not in result.stderr and "internal error" not in result.stderr
    assert "is a file, not a folder" in result.stderr
    assert (user.home / "notes.txt").read_text() == "mine"


def test_a_city_folder_given_as_root_says_to_give_the_folder_above(user):
    write_city(user.home / "oscd", "alpha", crop_px=0)
    result = user("eval", "oscd", "--root", "oscd/alpha")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "Error: OSCD root oscd/alpha holds no city folder with labels (<city>/cm.tif or <city>/cm/<city>-cm.tif); it "
        "is a city's own folder: give the folder above it (--root oscd --cities alpha)")


def test_labels_of_a_city_the_images_lack_are_skipped_with_a_warning(user):
    """Labels of more cities than the images hold (the Test Labels unpacked beside the Train Labels): the run
    stopped before any city was scored, "OSCD city 'delta' not found under ... (have: alpha, beta, delta)",
    delta listed as had."""
    _download(user.home, unlabelled=())
    (user.home / LABELS / "delta" / "cm").mkdir(parents=True)
    shutil.copy(user.home / LABELS / "alpha" / "cm" / "alpha-cm.tif", user.home / LABELS / "delta" / "cm" / "delta-cm.tif")
    result = user("eval", "oscd", "--root", IMAGES, "--labels", LABELS, "--json", "scores.json")
    assert result.returncode == 0, result.output
    rows = json.loads((user.home / "scores.json").read_text())["methods"]["local-fusion"]["cities"]
    assert [row["city"] for row in rows] == ["alpha", "beta"]
    assert f"1 labelled city without images under {IMAGES} skipped: delta" in result.stderr
