"""The report read without colour as the screen shows it: printed on paper as Chromium prints by default
(backgrounds off) and under Windows' high-contrast (forced) colours, in real headless Chromium."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from tests.outputs.test_report_chromium import open_report

pytestmark = pytest.mark.chromium

DPI = 192


def luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def printed_alone(driver, selector: str, tmp_path) -> np.ndarray:
    """The page of the report printed as Chromium prints by default (no 'background graphics'), everything but
    the first ``selector`` element made invisible (the layout kept): the element as it comes out on paper."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the printed page cannot be looked at")
    driver.execute_script("""document.body.style.visibility = 'hidden';
        document.querySelectorAll('img, svg').forEach(e => e.style.visibility = 'hidden');
        const target = document.querySelector(arguments[0]); target.style.visibility = 'visible';
""", selector)
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {})["data"]))
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(tmp_path / "page")], check=True,
                   capture_output=True)
    pages = [np.asarray(Image.open(png).convert("RGB")).astype(float) for png in sorted(tmp_path.glob("page*.png"))]
    inked = [page for page in pages if (np.abs(page - 255).sum(axis=2) > 30).any()]
    assert len(inked) == 1, f"{selector} printed on {len(inked)} pages"
    return inked[0]


def text_contrast(page: np.ndarray) -> float:
    """Contrast (WCAG) of the text of the one thing printed on ``page`` against its own background: its
    commonest colour inside, away from its rounded border, against the colour there farthest from it."""
    ink = np.argwhere(np.abs(page - 255).sum(axis=2) > 30)
    assert ink.size, "nothing printed"
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0)
    height = bottom - top
    inside = page[top + int(0.3 * height):bottom - int(0.3 * height), left + height:right - height]
    colours, counts = np.unique(inside.reshape(-1, 3), axis=0, return_counts=True)
    background = luminance(colours[counts.argmax()])
    lum = luminance(colours)
    light, dark = np.maximum(lum, background), np.minimum(lum, background)
    return float(((light + 0.05) / (dark + 0.05)).max())


@pytest.mark.parametrize("selector", [
    "#summary .badge",  # the verdict itself
    ".swipe .tag.before", ".swipe .corner.nw", ".chip .frame-label",  # the words over the pictures
])
def test_printed_the_verdict_and_the_words_on_the_pictures_stay_readable(driver, demo_output, tmp_path, selector):
    """Printed (Chromium's default, backgrounds off), a verdict's badge lost its colour and kept its white words,
    which came out pale grey on white paper (2.4:1): the verdict, the page's point, was the hardest thing to
    read on it; so were the date and corner labels over the pictures, their dark plate gone. Their colours
    now print as on screen."""
    open_report(driver, demo_output / "report.html")
    contrast = text_contrast(printed_alone(driver, selector, tmp_path))
    assert contrast >= 4.5, f"{selector} printed at {contrast:.1f}:1"


def legend_colours(driver) -> list[np.ndarray]:
    styles = driver.execute_script(
        "return Array.from(document.querySelectorAll('.legend .swatch')).map(s => s.style.background)")
    assert styles
    return [np.array([float(v) for v in s[s.index("(") + 1:s.index(")")].split(",")]) for s in styles]


def shows(picture: np.ndarray, colour: np.ndarray) -> bool:
    return bool((np.abs(picture - colour).sum(axis=2) < 40).sum() >= 16)


def test_printed_the_legend_keeps_its_colour_key(driver, demo_output, tmp_path):
    """On paper the map's outlines kept their colours while the legend's swatches came out as empty boxes: no
    way to tell which colour is which kind of change."""
    open_report(driver, demo_output / "report.html")
    colours = legend_colours(driver)
    page = printed_alone(driver, ".legend", tmp_path)
    missing = [c.tolist() for c in colours if not shows(page, c)]
    assert not missing, f"legend swatches not printed: {missing}"


def test_in_forced_colours_the_legend_keeps_its_colour_key(driver, demo_output):
    """Under Windows' high-contrast colours (forced colours) the change outlines over the pictures and in the
    chips keep their colours, but every swatch of the legend, the tables and the chips' captions was painted
    the page's own background: the key to those colours was gone."""
    open_report(driver, demo_output / "report.html")
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "forced-colors", "value": "active"}]})
        assert driver.execute_script("return matchMedia('(forced-colors: active)').matches")
        legend = driver.find_element("css selector", ".legend")
        driver.execute_script("arguments[0].scrollIntoView()", legend)
        picture = np.asarray(Image.open(io.BytesIO(legend.screenshot_as_png)).convert("RGB")).astype(float)
        missing = [c.tolist() for c in legend_colours(driver) if not shows(picture, c)]
        assert not missing, f"legend swatches without their colour: {missing}"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


TABLES = """return Array.from(document.querySelectorAll('table')).map(t => {
    const box = t.parentElement, ids = (t.getAttribute('aria-labelledby') || '').split(' ');
    const labels = ids.map(id => document.getElementById(id));
    return {label: labels.every(l => l) ? labels.map(l => l.textContent.trim()).join(' ') : null, scrolls: box.scrollWidth > box.clientWidth,
            tabindex: box.getAttribute('tabindex'), role: box.getAttribute('role'),
            region: box.getAttribute('aria-labelledby') === t.getAttribute('aria-labelledby')}; })"""


@pytest.mark.parametrize("run", ["demo_output", "port_run_output"])
def test_at_400_percent_each_table_is_named_and_its_scrolling_box_reached_by_keyboard(driver, request, run):
    """Zoomed to 400% (320 px of CSS width) a wide table scrolls in its own box; the boxes of tables with no link
    in them (a claim's changes by kind, the vessel counts, the provenance's scenes) took no keyboard focus where the
    browser does not make scrolling boxes focusable by itself (Safari), so their hidden columns could not be reached,
    and no table had a name: a screen reader's list of tables read 'table' seven times. Each table is now named by
    its heading, and a box that scrolls is a named region in the tab order; one that fits is not a tab stop."""
    report = request.getfixturevalue(run) / "report.html"
    driver.set_window_size(320, 900)
    try:
        open_report(driver, report)
        driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        driver.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        tables = driver.execute_script(TABLES)
        assert all(t["label"] for t in tables), tables
        scrolling = [t for t in tables if t["scrolls"]]
        assert scrolling, tables
        assert all(t["tabindex"] == "0" and t["role"] == "region" and t["region"] for t in scrolling), scrolling
        names = [e.accessible_name.lower() for e in driver.find_elements("css selector", "table")]  # h4: capitals
        assert "" not in names and len(set(names)) == len(names), names  # a screen reader's list tells them apart
        assert "verdicts" in names and any(n.startswith("scenes ") for n in names), names
    finally:
        driver.set_window_size(1280, 900)
    open_report(driver, report)
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    driver.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    fitting = [t for t in driver.execute_script(TABLES) if not t["scrolls"]]
    assert fitting and all(t["tabindex"] is None and t["role"] is None for t in fitting), fitting


FURNITURE = """const stage = document.querySelector('[data-swipe]');
    const parts = ['.tag.before', '.tag.after', '.corner.nw', '.corner.se', 'svg.north', '.scalebar']
        .map(s => [s, stage.querySelector(':scope > ' + s).getBoundingClientRect()]);
    const box = stage.getBoundingClientRect(), faults = [];
    parts.forEach(([s, a], i) => {
        if (a.left < box.left || a.top < box.top || a.right > box.right || a.bottom > box.bottom) faults.push(s + ' outside');
        parts.slice(i + 1).forEach(([t, b]) => {
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) faults.push(s + ' over ' + t);
        });
    });
    return faults;"""


@pytest.mark.parametrize("width", [1280, 640, 400, 360, 320])
def test_zoomed_in_the_dates_over_the_pictures_stay_apart(driver, demo_output, width):
    """At 400% zoom (320 px of CSS width, the picture 238 px wide) the 'after · 2017-10-14' label lay over the
    'before · 2015-08-21' one, hiding the before date. On a narrow picture the labels wrap, the date under the
    word, and the corner coordinates and north arrow make room below them."""
    driver.set_window_size(width, 900)
    try:
        open_report(driver, demo_output / "report.html")
        assert driver.execute_script(FURNITURE) == []
        dates = driver.find_elements("css selector", "[data-swipe] .tag .date")
        assert len(dates) == 2 and all(d.size["height"] < 20 for d in dates)  # a date is never cut at its hyphens
    finally:
        driver.set_window_size(1280, 900)


def test_the_swipe_slider_is_called_by_its_visible_label(driver, demo_output):
    """The slider's visible label is 'Swipe between dates', but its name for assistive technology was 'swipe
    position: left shows before, right shows after' (an aria-label over the label): a voice-control user saying
    'click Swipe between dates' was not understood (WCAG 2.5.3, label in name). Its name is its label now, and
    the words beside it saying which side shows which date describe it."""
    open_report(driver, demo_output / "report.html")
    slider = driver.find_element("css selector", "[data-swipe-range]")
    assert "Swipe between dates" in slider.accessible_name
    described = driver.execute_script(
        "return (arguments[0].getAttribute('aria-describedby') || '').split(' ').filter(i => i)"
        ".map(i => document.getElementById(i).textContent).join(' ')", slider)
    assert "Left of the line: before. Right: after." in described


def test_a_screen_readers_headings_find_each_areas_provenance(driver, port_run_output):
    """Read by heading (a screen reader's usual way through a long page), the provenance was no heading at all
    (a folded section's summary) and, unfolded, its 'Scenes', 'Method', 'Versions' and 'Timings' sat under the
    area's last claim, as if they were that claim's. The provenance is now a heading of the area's level below
    the area's name, its parts under it."""
    open_report(driver, port_run_output / "report.html")
    headings = """return Array.from(document.querySelectorAll('h1, h2, h3, h4')).filter(h => h.checkVisibility())
        .map(h => [Number(h.tagName[1]), h.textContent.trim()])"""
    folded = driver.execute_script(headings)
    assert [3, "Provenance: test-port"] in folded
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    outline = driver.execute_script(headings)
    levels = [level for level, _ in outline]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:])), outline  # none skipped
    for i, (level, text) in enumerate(outline):
        if text in ("Scenes", "Method", "Versions", "Timings (s)"):
            parent = next(t for lvl, t in reversed(outline[:i]) if lvl < level)
            assert parent == "Provenance: test-port", (text, parent)


def test_in_dark_forced_colours_the_swipe_line_stays_white(driver, port_run_output):
    """Under a dark high-contrast theme the swipe's dividing line took the page's black and lost its shadow: on
    dark pictures (water, radar) the line between the before and the after date could not be seen. It keeps its
    white, haloed, as over any picture."""
    open_report(driver, port_run_output / "report.html")
    try:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
            {"name": "forced-colors", "value": "active"}, {"name": "prefers-color-scheme", "value": "dark"}]})
        divider = driver.find_element("css selector", "[data-swipe] .divider")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", divider)
        line = np.asarray(Image.open(io.BytesIO(divider.screenshot_as_png)).convert("RGB")).astype(float)
        assert line.mean() > 200, f"the dividing line is drawn at a mean level of {line.mean():.0f} of 255"
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
