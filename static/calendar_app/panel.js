// The booking panel's helpers (issue #19), none of them needed for it to work: a search over
// the resource list, 24-hour time fields that read what people type and step with the arrow
// keys, and, after a refused save, the first error scrolled into view and focused.
(() => {
  "use strict";
  const DAY = 1440;
  const STEP = 15; // minutes an arrow key moves a time, as the grid's rows
  const HOUR = 60; // with Shift

  // ---------------------------------------------------------------- resources

  // Every word typed must be in a resource's path (building / room / camera), so "101 cam"
  // finds the cameras of room 101. Chosen resources always stay in sight.
  function filterResources(search) {
    const list = document.getElementById(search.getAttribute("aria-controls"));
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let found = 0;
    for (const row of list.querySelectorAll(".res")) {
      const hit = words.every((word) => row.dataset.search.includes(word));
      row.hidden = !hit && !row.querySelector("input").checked;
      found += hit;
    }
    for (const line of list.querySelectorAll(".res-group, .res-placed")) line.hidden = words.length > 0;
    list.querySelector(".res-none").hidden = found > 0;
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches(".res-search")) filterResources(event.target);
  });
  document.addEventListener("keydown", (event) => {
    // Enter in the search would submit the booking: it means "done searching".
    if (event.key === "Enter" && event.target.matches(".res-search")) event.preventDefault();
  });

  // ---------------------------------------------------------------- times

  // As forms.ClockField reads them: "14:30", "14.30", "1430", "9", "2:30 pm"; null otherwise.
  function readClock(text) {
    const match = text.trim().toLowerCase().match(/^(\d{1,2})(?:[:.]?(\d{2}))?\s*(?:([ap])\.?\s?m\.?)?$/);
    if (!match) return null;
    let hour = Number(match[1]);
    const minute = Number(match[2] || 0);
    if (match[3]) {
      if (hour < 1 || hour > 12) return null;
      hour = (hour % 12) + (match[3] === "p" ? 12 : 0);
    }
    if (minute > 59 || hour > 24 || (hour === 24 && minute > 0)) return null;
    return hour * 60 + minute;
  }

  const clock = (minute) =>
    `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;

  // What was typed, shown as the 24-hour time it was read as (the server reads the same).
  document.addEventListener("change", (event) => {
    const field = event.target;
    if (!field.matches(".booking-form input.clock")) return;
    const minute = readClock(field.value);
    if (minute !== null) field.value = clock(minute);
  }, true); // before htmx's own change listeners read the form

  // Up and Down step to the next quarter hour (the grid's rows); with Shift, by an hour.
  document.addEventListener("keydown", (event) => {
    const field = event.target;
    if (!field.matches?.(".booking-form input.clock") || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
    const minute = readClock(field.value);
    if (minute === null) return;
    event.preventDefault();
    const up = event.key === "ArrowUp";
    const next = event.shiftKey
      ? minute + (up ? HOUR : -HOUR)
      : up ? Math.floor(minute / STEP) * STEP + STEP : Math.ceil(minute / STEP) * STEP - STEP;
    field.value = clock(((next % DAY) + DAY) % DAY);
    field.dispatchEvent(new Event("change", { bubbles: true })); // the live check follows
  });

  // ---------------------------------------------------------------- a panel arrives

  // After a refused save the panel comes back with its errors: bring the first into view (the
  // sticky actions leave room for it, panel.css) and put the keyboard on its field. Runs after
  // calendar.js's listener, which focuses the first field of any panel.
  function showFirstError(panel) {
    const first = panel.querySelector(
      ".form-error, [aria-invalid='true'], fieldset[aria-describedby], .booking-form .clashes",
    );
    if (!first) return;
    const field = first.matches("input, select, textarea") ? first : first.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus({ preventScroll: true });
    first.scrollIntoView({ block: "center" });
  }

  htmx.onLoad((element) => {
    element.querySelectorAll?.(".res-search, .res-search-label").forEach((part) => { part.hidden = false; });
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "panel") showFirstError(event.detail.target);
  });
})();
