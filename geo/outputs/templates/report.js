(function () {
  "use strict";
  function setPosition(stage, range, percent) {
    var value = Math.max(0, Math.min(100, percent));
    range.value = String(value);
    stage.style.setProperty("--pos", value + "%");
  }
  function corner(stage, name) {
    return (stage.getAttribute("data-" + name) || "").split(",").map(Number);
  }
  function latLonText(lat, lon) {
    return Math.abs(lat).toFixed(5) + "\u00b0 " + (lat >= 0 ? "N" : "S") + ", " +
      Math.abs(lon).toFixed(5) + "\u00b0 " + (lon >= 0 ? "E" : "W");
  }
  // Where the pointer is, in lat/lon: bilinear between the picture's corners (exact to well under a pixel
  // over an AOI-sized UTM grid).
  function showPointer(stage, readout, event) {
    var nw = corner(stage, "nw"), ne = corner(stage, "ne"), sw = corner(stage, "sw"), se = corner(stage, "se");
    if (!readout || nw.length !== 2 || se.length !== 2) {
      return;
    }
    var box = stage.getBoundingClientRect();
    var u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
    if (u < 0 || u > 1 || v < 0 || v > 1) {
      return;
    }
    function mix(i) {
      var top = nw[i] + (ne[i] - nw[i]) * u, bottom = sw[i] + (se[i] - sw[i]) * u;
      return top + (bottom - top) * v;
    }
    readout.textContent = "Pointer: " + latLonText(mix(0), mix(1)) + "." + changeAt(stage, u, v);
  }
  // The change outlined under the pointer, as its card names it, else why the hatched ground there was not
  // compared: the outlines and the hatching take no pointer events (the picture is dragged to swipe), so their own
  // hover text never showed. The hatching stays when the outlines are hidden.
  function changeAt(stage, u, v) {
    var svg = stage.querySelector("svg");
    if (!svg || !svg.viewBox || !window.DOMPoint) {
      return "";
    }
    var view = svg.viewBox.baseVal;
    var point = new DOMPoint(view.x + u * view.width, view.y + v * view.height);
    function titleOf(path) {
      var title = path.querySelector("title");
      return title ? title.textContent : "";
    }
    var paths = stage.classList.contains("hide-outlines") ? [] : svg.querySelectorAll("path.change");
    for (var i = paths.length - 1; i >= 0; i--) {  // the last drawn is on top
      if (paths[i].isPointInFill(point) || paths[i].isPointInStroke(point)) {
        return " Change " + paths[i].getAttribute("data-change") + ": " + titleOf(paths[i]) + ".";
      }
    }
    var unseen = svg.querySelectorAll("path.not-compared");
    for (var j = 0; j < unseen.length; j++) {
      if (unseen[j].isPointInFill(point)) {
        return " Not compared here: " + titleOf(unseen[j]).replace(/^not compared: /, "") + ".";
      }
    }
    return "";
  }
  // A wide table scrolls in its own box on a narrow or zoomed screen: while it does, the box is a region named
  // as its table, in the tab order (a keyboard scrolls it where the browser does not focus such boxes itself).
  function reachable(box) {
    var table = box.querySelector("table");
    if (box.scrollWidth > box.clientWidth && table && table.hasAttribute("aria-labelledby")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-labelledby", table.getAttribute("aria-labelledby"));
    } else {
      ["tabindex", "role", "aria-labelledby"].forEach(function (name) { box.removeAttribute(name); });
    }
  }
  var boxes = document.querySelectorAll(".table-scroll");
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { reachable(entry.target); });
    });
    boxes.forEach(function (box) { observer.observe(box); });
  }
  boxes.forEach(reachable);
  document.querySelectorAll("[data-viewer]").forEach(function (viewer) {
    var stage = viewer.querySelector("[data-swipe]");
    var range = viewer.querySelector("[data-swipe-range]");
    var toggle = viewer.querySelector("[data-outlines]");
    if (!stage || !range) {
      return;
    }
    range.addEventListener("input", function () {
      setPosition(stage, range, Number(range.value));
    });
    var dragging = false, started = Number(range.value);
    function follow(event) {
      var box = stage.getBoundingClientRect();
      setPosition(stage, range, ((event.clientX - box.left) / box.width) * 100);
    }
    stage.addEventListener("pointerdown", function (event) {
      dragging = true;
      started = Number(range.value);
      stage.setPointerCapture(event.pointerId);
      follow(event);
    });
    // a touch the browser takes over (a scroll or a zoom begun on the picture) leaves the line where it was
    stage.addEventListener("pointercancel", function () {
      if (dragging) {
        dragging = false;
        setPosition(stage, range, started);
      }
    });
    // The readout follows the pointer on screen; a screen reader is told only where a click, a tap or a drag
    // ended (a live region written at every move was announced dozens of times a second).
    var readout = viewer.querySelector("[data-coords]");
    var said = viewer.querySelector("[data-coords-said]");
    stage.addEventListener("pointermove", function (event) {
      if (dragging) {
        follow(event);
      }
      showPointer(stage, readout, event);
    });
    stage.addEventListener("pointerup", function (event) {
      dragging = false;
      showPointer(stage, readout, event);
      if (said && readout) {
        said.textContent = readout.textContent;
      }
    });
    if (toggle) {
      toggle.addEventListener("change", function () {
        stage.classList.toggle("hide-outlines", !toggle.checked);
      });
    }
    setPosition(stage, range, Number(range.value));
  });
})();
