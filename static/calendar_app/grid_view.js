// The calendar page's own behaviour, in every layout (day, room week, timeline): where the grid
// opens (now, centred, or the working day), "Today" scrolling there when today is already shown,
// the open booking highlighted while its panel is open, and the "+N more" lists closing when one
// of their bookings is opened. The drag gestures are calendar.js's; this file loads after it, so
// its first scroll wins over any made there.
(() => {
  "use strict";
  const DAY = 1440;
  const WORKING_DAY = 7 * 60; // where the grid opens when today is not shown
  const EVENT_PATH = /\/calendar\/events\/(\d+)\//;

  const grid = () => document.getElementById("grid");
  const panel = () => document.getElementById("panel");
  let openEvent = null;

  // ---------------------------------------------------------------- scrolling to now

  // Scroll the grid so `line` (the now-line) sits in the middle of its view along the time axis,
  // and its day is in view across: a line wider than tall is a moment on a vertical axis.
  function centre(wrap, line) {
    const view = wrap.getBoundingClientRect();
    const box = line.getBoundingClientRect();
    if (box.width >= box.height) {
      wrap.scrollTop += box.top - view.top - wrap.clientHeight / 2;
      if (box.left < view.left || box.left > view.right - 60) wrap.scrollLeft += box.left - view.left - 60;
    } else {
      wrap.scrollLeft += box.left - view.left - wrap.clientWidth / 2;
      if (box.top < view.top || box.top > view.bottom - 40) wrap.scrollTop += box.top - view.top - 40;
    }
  }

  // Without a now-line: the first cell's 07:00, along whichever axis the cell runs.
  function toWorkingDay(wrap) {
    const cell = wrap.querySelector(".col");
    if (!cell) return;
    const view = wrap.getBoundingClientRect();
    const box = cell.getBoundingClientRect();
    if (cell.dataset.axis === "x") wrap.scrollLeft += box.left - view.left + (box.width * WORKING_DAY) / DAY - 80;
    else wrap.scrollTop += box.top - view.top + (box.height * WORKING_DAY) / DAY - 40;
  }

  function scrollToNow() {
    const wrap = grid();
    if (!wrap) return false;
    const line = wrap.querySelector(".now-line");
    if (line) centre(wrap, line);
    else toWorkingDay(wrap);
    return Boolean(line);
  }

  // "Today" when today is shown: scroll there instead of loading the same page again.
  document.addEventListener("click", (event) => {
    const link = event.target.closest(".today-link");
    const wrap = grid();
    if (!link || !wrap || !wrap.querySelector(".now-line")) return;
    event.preventDefault();
    scrollToNow();
  });

  // ---------------------------------------------------------------- the open booking

  function highlight() {
    document.querySelectorAll("#grid .ev.is-open").forEach((box) => box.classList.remove("is-open"));
    if (openEvent === null) return;
    document.querySelectorAll(`#grid .ev[data-event="${openEvent}"]`).forEach((box) => box.classList.add("is-open"));
  }

  // The panel shows a booking when it was loaded from one of its addresses (details, edit, move).
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id === "panel") {
      const path = event.detail.pathInfo?.requestPath || event.detail.requestConfig?.path || "";
      const found = EVENT_PATH.exec(path);
      openEvent = found ? found[1] : null;
      document.querySelectorAll(".more-list:popover-open").forEach((list) => list.hidePopover());
    }
    highlight(); // a reloaded grid has new boxes: mark them again
  });

  // Closing the panel empties it (calendar.js): the highlight goes with it.
  function watchPanel() {
    const element = panel();
    if (!element) return;
    new MutationObserver(() => {
      if (element.innerHTML.trim() === "" && openEvent !== null) {
        openEvent = null;
        highlight();
      }
    }).observe(element, { childList: true });
  }

  // Once the styles are in (positions come from them), and again when everything has loaded,
  // unless the person has scrolled meanwhile.
  function start() {
    const wrap = grid();
    scrollToNow();
    const placed = wrap ? [wrap.scrollTop, wrap.scrollLeft] : null;
    window.addEventListener("load", () => {
      if (placed && wrap.scrollTop === placed[0] && wrap.scrollLeft === placed[1]) scrollToNow();
    }, { once: true });
    watchPanel();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
