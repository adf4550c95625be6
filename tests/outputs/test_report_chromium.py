"""The report in a real browser (headless Debian Chromium): it loads without console errors, it is not a
blank page, the swipe slider changes what is shown, and hostile claim text stays text."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_geo
from tests.outputs.test_report import HOSTILE, hostile_copy

pytestmark = pytest.mark.chromium


def open_report(driver, path):
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # drop anything from before this page
    driver.refresh()
    assert driver.execute_script("return document.readyState") == "complete"


def errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def picture(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def set_swipe(driver, element, keys):
    element.send_keys(keys)  # keyboard on the range input: real input events
    return driver.execute_script(
        "return getComputedStyle(document.querySelector('[data-swipe]')).getPropertyValue('--pos').trim()")


@contextmanager
def on_a_phone(driver, report, width=400, unfolded=True):
    """``report`` open at ``width`` px (its folded sections unfolded): the page must not pan sideways. Yields
    the screen's width; the window size is put back after."""
    driver.set_window_size(width, 900)
    try:
        open_report(driver, report)
        if unfolded:
            driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        page = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert page[0] <= page[1], f"the page is {page[0]} px wide on a {page[1]} px screen"
        yield page[1]
    finally:
        driver.set_window_size(1280, 900)


def test_demo_report_loads_without_errors_and_is_not_blank(driver, demo_output):
    open_report(driver, demo_output / "report.html")
    assert errors(driver) == []
    assert driver.execute_script("return document.images.length") >= 2  # the swipe view's
    assert driver.execute_script("return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert driver.execute_script("return document.querySelectorAll('.chip svg.picture').length") >= 2
    shot = picture(driver.get_screenshot_as_png())
    assert shot.std() > 20, "screenshot is (nearly) one colour"
    assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 2000  # imagery, not just text on white
    assert "consistent with the claim" in driver.find_element("css selector", ".claim .badge").text


def test_swipe_changes_the_visible_image(driver, demo_output):
    from selenium.webdriver.common.keys import Keys

    driver.set_window_size(1280, 1500)  # the whole picture on screen, so screenshots line up
    open_report(driver, demo_output / "report.html")
    stage = driver.find_element("css selector", "[data-swipe]")
    driver.execute_script("arguments[0].scrollIntoView()", stage)
    slider = driver.find_element("css selector", "[data-swipe-range]")
    assert set_swipe(driver, slider, Keys.HOME) == "0%"  # after image everywhere
    all_after = picture(stage.screenshot_as_png)
    assert set_swipe(driver, slider, Keys.END) == "100%"  # before image everywhere
    all_before = picture(stage.screenshot_as_png)
    difference = np.abs(all_after - all_before).mean()
    assert difference > 10, f"swiping barely changed the view (mean difference {difference:.1f})"
    # dragging on the picture moves the divider to the pointer
    from selenium.webdriver import ActionChains

    ActionChains(driver).move_to_element_with_offset(stage, -stage.size["width"] // 4, 0).click_and_hold() \
        .move_by_offset(1, 0).release().perform()
    position = float(slider.get_attribute("value"))
    assert 20 < position < 30, position
    half = picture(stage.screenshot_as_png)
    width = half.shape[1]
    left, right = slice(0, int(0.2 * width)), slice(int(0.3 * width), width)
    assert np.abs(half[:, left] - all_before[:, left]).mean() < 3  # before shows left of the line
    assert np.abs(half[:, right] - all_after[:, right]).mean() < 3  # after shows right of it
    assert errors(driver) == []


def test_outline_toggle_hides_change_outlines(driver, demo_output):
    open_report(driver, demo_output / "report.html")
    outline = driver.find_element("css selector", "[data-swipe] path.change")
    assert outline.value_of_css_property("display") != "none"
    driver.find_element("css selector", "[data-outlines]").click()
    assert outline.value_of_css_property("display") == "none"


def test_hostile_claim_text_shows_as_text_and_never_runs(driver, synthetic_output, tmp_path):
    folder = hostile_copy(synthetic_output, tmp_path)
    open_report(driver, folder / "report.html")
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1  # the report's own
    statement = driver.find_element("css selector", ".statement").text
    assert HOSTILE in statement  # shown literally
    assert driver.execute_script("return document.querySelectorAll('.claim img[src=\"x\"]').length") == 0
    links = driver.execute_script("return Array.from(document.links).map(a => a.href)")
    assert not any(link.startswith("javascript:") for link in links)
    assert errors(driver) == []


def test_vessel_plot_and_evidence_show(driver, port_run_output):
    driver.set_window_size(1280, 900)
    open_report(driver, port_run_output / "report.html")
    assert errors(driver) == []  # the CSP lets the inlined SVG plot through (img-src data:)
    plot = driver.find_element("css selector", "[data-vessel-plot]")
    driver.execute_script("arguments[0].scrollIntoView()", plot)
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", plot)
    assert plot.size["width"] > 500 and plot.size["height"] > 250
    shot = picture(plot.screenshot_as_png)
    assert shot.std() > 20, "the plot is (nearly) one colour"
    s1_blue = np.abs(shot - np.array([0x1F, 0x5F, 0xA8])).sum(axis=2) < 40
    assert s1_blue.sum() > 200  # the Sentinel-1 series is drawn in its colour
    rationale = driver.find_element("css selector", '[id="claim-test-port:test-ships"] .vessel-rationale').text
    assert "significant rise" in rationale and "p = " in rationale
    badge = driver.find_element("css selector", '[id="claim-test-port:test-ships"] .badge').text
    assert badge == "consistent with the claim ●●● high confidence"


def test_on_a_phone_the_vessel_plot_is_the_one_drawn_for_it(driver, port_run_output):
    """The 990 px plot shrunk to a 375 px phone had its words ~4 px high: the one drawn for a phone is shown
    there, upright, its words at least 9 px high; a wide screen shows the wide one."""
    with phone_with_touch(driver):
        open_report(driver, port_run_output / "report.html")
        wide = driver.find_element("css selector", "[data-vessel-plot]")
        narrow = driver.find_element("css selector", "[data-vessel-plot-narrow]")
        driver.execute_script("arguments[0].scrollIntoView()", narrow)
        assert not wide.is_displayed() and narrow.is_displayed()
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", narrow)
        shown, natural = driver.execute_script("return [arguments[0].clientWidth, arguments[0].naturalWidth]", narrow)
        assert narrow.size["height"] > narrow.size["width"] > 250
        # matplotlib's 9 pt words (12 CSS px at the SVG's own size) at the width it is shown
        assert 12 * shown / natural >= 9, (shown, natural)
        assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth")
    driver.set_window_size(1280, 900)
    open_report(driver, port_run_output / "report.html")
    assert driver.find_element("css selector", "[data-vessel-plot]").is_displayed()
    assert not driver.find_element("css selector", "[data-vessel-plot-narrow]").is_displayed()
    assert errors(driver) == []


def test_a_plot_file_with_script_stays_an_inert_image(driver, port_run_output, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(port_run_output, copy)
    (copy / "timeseries.svg").write_text(
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" '
        'onload="window.__pwned = 5"><script>window.__pwned = 4</script>'
        '<rect width="400" height="200" fill="#c2571a"/></svg>')
    (copy / "report.html").unlink()
    result = run_geo("report", str(copy))
    assert result.returncode == 0, result.stderr
    open_report(driver, copy / "report.html")
    plot = driver.find_element("css selector", "[data-vessel-plot]")
    assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", plot)
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.scripts.length") == 1
    assert errors(driver) == []


def test_map_furniture_is_drawn_to_scale_and_clear_of_the_labels(driver, demo_output):
    driver.set_window_size(1280, 1500)
    open_report(driver, demo_output / "report.html")
    stage = driver.find_element("css selector", "[data-swipe]")
    bar = stage.find_element("css selector", ".scalebar")
    metres, width_m = float(bar.get_attribute("data-scale-m")), float(bar.get_attribute("data-width-m"))
    drawn = bar.size["width"] / stage.size["width"]  # on screen, whatever the window size
    assert drawn == pytest.approx(metres / width_m, abs=2 / stage.size["width"])
    assert bar.text in ("1 km", "2 km", "500 m")

    def box(element):
        r = element.rect
        return r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]

    def inside(inner, outer):
        return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]

    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    arrow = stage.find_element("css selector", "svg.north")
    labels = [stage.find_element("css selector", s) for s in (".tag.before", ".tag.after", ".corner.nw",
                                                                ".corner.se")]
    furniture = [arrow, bar, *labels]
    assert all(inside(box(f), box(stage)) for f in furniture)
    assert not any(overlap(box(a), box(b)) for i, a in enumerate(furniture) for b in furniture[i + 1:])
    # the badge shows its confidence: hatched fill for "medium", written out too
    badge = driver.find_element("css selector", ".claim .badge")
    assert "medium confidence" in badge.text
    assert "repeating-linear-gradient" in badge.value_of_css_property("background-image")
    assert errors(driver) == []


def test_on_a_phone_the_page_never_scrolls_sideways_and_each_table_scrolls_in_its_panel(driver, demo_output):
    """At 400 px the tables of changes (seven columns, coordinates kept on one line) were 830 px wide: the
    whole page panned sideways, the panels ending at the screen's edge; opened, the provenance's list gave its
    longest label (471 px) a column of its own, its values pushed off the screen. Now a wide table scrolls inside
    its own box, every column of it still there to scroll to (printed, that box clips nothing), and the labels
    wrap in at most 40% of the width."""
    with on_a_phone(driver, demo_output / "report.html") as screen:
        tables = driver.execute_script("""return Array.from(document.querySelectorAll('table')).map(t => {
            const box = t.parentElement; const r = box.getBoundingClientRect();
            return {wide: t.scrollWidth, box: box.clientWidth, scrolls: box.scrollWidth,
                    overflow: getComputedStyle(box).overflowX, right: r.right}; })""")
        wide = [t for t in tables if t["wide"] > t["box"]]
        assert wide, tables  # the demo's change table does not fit 400 px: the case to check
        assert all(t["overflow"] == "auto" and t["scrolls"] >= t["wide"] for t in wide), wide
        assert all(t["right"] <= screen for t in tables), tables
        try:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            assert {driver.execute_script("return getComputedStyle(arguments[0].parentElement).overflowX", t)
                    for t in driver.find_elements("css selector", "table")} == {"visible"}
        finally:
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        assert errors(driver) == []


def test_printed_the_report_keeps_its_folded_sections(driver, demo_output):
    """Printed (or saved as PDF), the folded sections stayed folded: the PDF had no provenance (scenes, method,
    versions), no reading guide, no vessel counts. On paper they are unfolded; on screen they stay folded."""
    open_report(driver, demo_output / "report.html")
    shown = "return Array.from(document.querySelectorAll('details')).map(d => d.lastElementChild.checkVisibility())"
    assert driver.execute_script(shown) and not any(driver.execute_script(shown))
    assert not driver.find_element("css selector", ".provenance dl").is_displayed()
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert all(driver.execute_script(shown)), driver.execute_script(shown)
        assert driver.execute_script("return document.querySelector('.provenance dl').getBoundingClientRect().height") > 100
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


@pytest.mark.parametrize("width", [360, 320])
def test_on_the_narrowest_phones_the_before_after_chips_shrink_to_fit(driver, demo_output, width):
    """Each chip's two 150 px pictures needed 367 px: at 360 px (most Android phones) and 320 px the page panned
    sideways again. The pictures now shrink, square, their scale bars with them."""
    with on_a_phone(driver, demo_output / "report.html", width, unfolded=False) as screen:
        frames = driver.execute_script("""return Array.from(document.querySelectorAll('.chip .frame')).map(f => {
            const r = f.getBoundingClientRect(), bar = f.querySelector('.scalebar').getBoundingClientRect();
            return [r.width, r.height, r.right, bar.width / r.width]; })""")
        assert frames
        for frame_width, height, right, bar_share in frames:
            assert 100 < frame_width <= 150 and abs(frame_width - height) < 1 and right <= screen
            assert 0.1 < bar_share < 0.9
        assert errors(driver) == []


def test_a_long_name_without_spaces_wraps_on_a_phone(driver, demo_output, tmp_path):
    """An area named as files are ('Vladivostok_port_and_naval_base_...', 64 letters, no space) ran off a 400 px
    screen in the section heading, and the page panned sideways to 886 px. Long words now break where they
    must."""
    copy = tmp_path / "long"
    shutil.copytree(demo_output, copy)
    aoi = json.loads((copy / "aoi.geojson").read_text())
    long_name = "Vladivostok_port_and_naval_base_Zolotoy_Rog_bay_2024_10_update_v2"
    aoi["features"][0]["properties"].update(name=long_name, source="https://example.org/" + "a/very/long/path" * 6)
    (copy / "aoi.geojson").write_text(json.dumps(aoi))
    (copy / "report.html").unlink()
    assert run_geo("report", str(copy)).returncode == 0
    with on_a_phone(driver, copy / "report.html"):
        assert any(long_name in h2.text.replace("\n", "") for h2 in driver.find_elements("css selector", "h2"))


def test_printed_a_claims_heading_stays_on_the_page_of_its_statement(driver, demo_output, tmp_path):
    """Saved as PDF (Chromium's own print), the demo's claim card began at the foot of page 2 with its badge and
    id alone, its statement and rationale on page 3; a chip or a table row cut in two is as bad."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    open_report(driver, demo_output / "report.html")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {})["data"]))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    heading = next(i for i, p in enumerate(pages) if "demo-nantes-construction on demo-nantes-port" in p)
    assert "New construction and cleared ground" in pages[heading], f"heading on page {heading + 1} alone"
    assert "consistent with the claim" in pages[heading]


def test_a_chip_written_once_is_drawn_on_every_card_that_shows_it(driver, demo_output, tmp_path):
    """Each chip is written into the report once and every claim card showing its change draws it from there:
    the last card's pictures are the first card's, at full size and crisp, on screen and in the printed page."""
    copy = tmp_path / "three"
    shutil.copytree(demo_output, copy)
    entry, = json.loads((copy / "claims.json").read_text())
    (copy / "claims.json").write_text(json.dumps([{**entry, "claim_id": f"claim-{i}"} for i in range(3)]))
    (copy / "report.html").unlink()
    assert run_geo("report", str(copy)).returncode == 0
    open_report(driver, copy / "report.html")
    frames = driver.find_elements("css selector", ".claim .chip .frame svg.picture")
    assert len(frames) % 3 == 0 and frames
    first, last = frames[0], frames[len(frames) * 2 // 3]
    shots = []
    for frame in (first, last):
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)
        shots.append(picture(frame.screenshot_as_png))
        assert frame.size["width"] > 100 and frame.size["height"] > 100
    assert shots[0].std() > 10, "the chip is (nearly) one colour"
    assert np.abs(shots[0] - shots[1]).mean() < 1
    assert errors(driver) == []


def test_on_a_touch_screen_the_change_tables_columns_are_explained_in_words_one_can_reach(driver, demo_output):
    """The change tables' 'Strong pixels', 'Evidence score' and score columns were explained only in hover text
    (title): on a phone or tablet (no hover) and from the keyboard the explanation could not be reached. Each
    table now has a folded key under it, opened by a tap, naming each column."""
    driver.set_window_size(400, 900)
    try:
        open_report(driver, demo_output / "report.html")
        table = driver.find_element("css selector", ".claim table.wide")
        headings = [th.text.strip().lower() for th in table.find_elements("css selector", "th")]
        key = driver.find_element("css selector", ".claim .column-key")
        assert key.find_element("css selector", "summary").is_displayed()  # a tap target
        key.find_element("css selector", "summary").click()
        text = key.text.lower()
        for heading in ("strong pixels", "kind confidence", "evidence score"):
            assert heading in headings and heading in text, (heading, text)
        assert "twice the detection threshold" in text and "minimum evidence at 25%" in text
        assert any(h.startswith("score") for h in headings) and "score (" in text
        assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth")
    finally:
        driver.set_window_size(1280, 900)


def test_moving_the_pointer_over_the_picture_is_not_announced_at_each_step(driver, demo_output):
    """The swipe view's coordinate readout was a live region: a screen reader announced a new 'Pointer: 47.2…° N,
    …' at every mouse move over the picture, dozens a second. The readout still follows the pointer on screen,
    but only the point of a click or tap (or the end of a drag) is announced, once."""
    from selenium.webdriver import ActionChains

    driver.set_window_size(1280, 1500)
    open_report(driver, demo_output / "report.html")
    stage = driver.find_element("css selector", "[data-swipe]")
    driver.execute_script("arguments[0].scrollIntoView()", stage)
    driver.execute_script("""window.__said = [];
        document.querySelectorAll('[aria-live]').forEach(region => new MutationObserver(() =>
            window.__said.push(region.textContent)).observe(region, {childList: true, characterData: true, subtree: true}));""")
    moves = ActionChains(driver).move_to_element_with_offset(stage, -200, -100)
    for _ in range(20):
        moves.move_by_offset(15, 8)
    moves.perform()
    shown = driver.find_element("css selector", "[data-coords]").text
    assert shown.startswith("Pointer: ") and "° N" in shown  # the readout follows the pointer on screen
    assert driver.execute_script("return window.__said") == []
    ActionChains(driver).click().perform()
    said = driver.execute_script("return window.__said")
    assert len(said) == 1 and "° N" in said[0] and "° W" in said[0], said
    assert errors(driver) == []


@contextmanager
def phone_with_touch(driver, width=375, height=667):
    """Chromium as a phone: a mobile viewport of ``width`` × ``height`` and touch input, no hover."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def touch_drag(driver, x, y, dx, dy, steps=10):
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, steps + 1):
        driver.execute_cdp_cmd("Input.dispatchTouchEvent", {
            "type": "touchMove", "touchPoints": [{"x": x + dx * i / steps, "y": y + dy * i / steps}]})
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    driver.execute_script("return new Promise(r => setTimeout(r, 400))")  # the scroll and its fling settle


@pytest.mark.parametrize("size", [(375, 667), (768, 1024)])
def test_on_a_phone_a_finger_on_the_picture_scrolls_the_page_or_moves_the_line(driver, demo_output, size):
    """On a phone the swipe picture fills the screen's width and half its height, and it took every touch
    (touch-action: none): a finger put on it to scroll the page moved the before/after line to the finger
    instead and the page stayed put; two fingers could not zoom into it. An up or down drag now scrolls the
    page and leaves the line where it was, a sideways drag still moves the line, and pinching zooms."""
    with phone_with_touch(driver, *size):
        open_report(driver, demo_output / "report.html")
        stage = driver.find_element("css selector", "[data-swipe]")
        assert "pinch-zoom" in stage.value_of_css_property("touch-action")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", stage)
        driver.execute_script("return new Promise(r => setTimeout(r, 200))")
        box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", stage)
        scrolled = driver.execute_script("return scrollY")
        touch_drag(driver, box["x"] + 0.7 * box["width"], box["y"] + 0.6 * box["height"], 0, -150)
        assert driver.execute_script("return scrollY") > scrolled + 100, "the page did not scroll"
        slider = driver.find_element("css selector", "[data-swipe-range]")
        assert slider.get_attribute("value") == "50"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", stage)
        driver.execute_script("return new Promise(r => setTimeout(r, 200))")
        box = driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", stage)
        touch_drag(driver, box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"], -0.3 * box["width"], 0)
        assert 15 < float(slider.get_attribute("value")) < 25, slider.get_attribute("value")
        assert errors(driver) == []


def test_the_pointer_over_a_change_outline_names_the_change(driver, demo_output):
    """The outlines' hover text never showed (they take no pointer events: the picture is dragged to swipe); the
    readout under the picture now names the change under the pointer, as its card does, and a click says it."""
    from selenium.webdriver import ActionChains

    driver.set_window_size(1280, 1500)
    open_report(driver, demo_output / "report.html")
    stage = driver.find_element("css selector", "[data-swipe]")
    driver.execute_script("arguments[0].scrollIntoView()", stage)
    # a point inside the largest outline, as offsets from the picture's centre in CSS px
    found = driver.execute_script("""
        const stage = arguments[0], svg = stage.querySelector('svg'), view = svg.viewBox.baseVal;
        const box = stage.getBoundingClientRect();
        let best = null;
        for (const path of svg.querySelectorAll('path.change')) {
            const b = path.getBBox();
            if (!best || b.width * b.height > best.b.width * best.b.height) best = {path, b};
        }
        for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
            const x = best.b.x + best.b.width * i / 40, y = best.b.y + best.b.height * j / 40;
            if (best.path.isPointInFill(new DOMPoint(x, y))) {
                return [best.path.getAttribute('data-change'), best.path.querySelector('title').textContent,
                        (x - view.x) / view.width * box.width - box.width / 2,
                        (y - view.y) / view.height * box.height - box.height / 2];
            }
        }
        return null;""", stage)
    assert found is not None, "no point inside the largest outline"
    change_id, title, dx, dy = found
    ActionChains(driver).move_to_element_with_offset(stage, round(dx), round(dy)).perform()
    shown = driver.find_element("css selector", "[data-coords]").text
    assert shown.startswith("Pointer: ") and f"Change {change_id}: {title}." in shown, shown
    assert "m²" in title and "strong" in title
    ActionChains(driver).click().perform()
    assert f"Change {change_id}: " in driver.find_element("css selector", "[data-coords-said]").get_attribute(
        "textContent")
    driver.find_element("css selector", "[data-outlines]").click()  # outlines hidden: none named
    ActionChains(driver).move_to_element_with_offset(stage, round(dx), round(dy)).perform()
    assert "Change" not in driver.find_element("css selector", "[data-coords]").text
    assert errors(driver) == []
