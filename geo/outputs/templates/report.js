(function () {
  "use strict";
  function setPosition(stage, range, percent) {
    var value = Math.max(0, Math.min(100, percent));
    range.value = String(value);
    stage.style.setProperty("--pos", value + "%");
  }
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
    var dragging = false;
    function follow(event) {
      var box = stage.getBoundingClientRect();
      setPosition(stage, range, ((event.clientX - box.left) / box.width) * 100);
    }
    stage.addEventListener("pointerdown", function (event) {
      dragging = true;
      stage.setPointerCapture(event.pointerId);
      follow(event);
    });
    stage.addEventListener("pointermove", function (event) {
      if (dragging) {
        follow(event);
      }
    });
    stage.addEventListener("pointerup", function () {
      dragging = false;
    });
    if (toggle) {
      toggle.addEventListener("change", function () {
        stage.classList.toggle("hide-outlines", !toggle.checked);
      });
    }
    setPosition(stage, range, Number(range.value));
  });
})();
