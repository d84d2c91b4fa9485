// The staff calendar's drag gestures, and nothing else: drag on empty time to book, drag a
// booking to move it (to another time, day or resource), drag its bottom edge to resize it.
// While dragging it asks the server for conflicts (debounced) and shows the answer on the
// ghost, before anything is saved. Everything else (panels, forms, reloads) is htmx, but for
// the booking panel's template list, which follows the booking type chosen.
(() => {
  "use strict";
  const DAY = 1440;
  const SNAP = 15;
  const DEBOUNCE_MS = 120;
  const DRAG_PX = 4; // below this a press is a click: it opens the booking's details

  // Refusals (409 conflict, 422 invalid) carry the panel that explains them: swap those too.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "409", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];

  let gesture = null;
  let suppressClick = false;

  const grid = () => document.getElementById("grid");
  const panel = () => document.getElementById("panel");
  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const snap = (minute) => Math.round(minute / SNAP) * SNAP;
  const clock = (minute) =>
    `${String(Math.floor(minute / 60) % 24).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;

  function minuteAt(column, clientY) {
    const box = column.getBoundingClientRect();
    return clamp(snap(((clientY - box.top) / box.height) * DAY), 0, DAY);
  }

  function columnAt(x, y) {
    const hit = document.elementFromPoint(x, y);
    return hit ? hit.closest("#grid .col") : null;
  }

  // ---------------------------------------------------------------- start

  document.addEventListener("pointerdown", (event) => {
    const wrap = grid();
    if (event.button !== 0 || event.pointerType === "touch" || !wrap || !wrap.dataset.canBook) return;
    const column = event.target.closest("#grid .col");
    if (!column) return;
    const booking = event.target.closest(".ev");
    if (booking && !booking.dataset.movable) return; // cancelled or multi-day: click only
    const minute = minuteAt(column, event.clientY);
    if (!booking) {
      gesture = { kind: "book", column, target: column, anchor: minute, start: minute, end: minute + SNAP };
    } else {
      const top = Number(booking.style.getPropertyValue("--top"));
      const height = Number(booking.style.getPropertyValue("--height"));
      const kind = event.target.closest(".resize") ? "resize" : "move";
      gesture = {
        kind, booking, column, target: column, offset: minute - top, length: height,
        start: top, end: top + height, original: [top, top + height, column],
      };
    }
    gesture.x = event.clientX;
    gesture.y = event.clientY;
    gesture.started = false;
  });

  document.addEventListener("pointermove", (event) => {
    if (!gesture) return;
    if (!gesture.started) {
      if (Math.hypot(event.clientX - gesture.x, event.clientY - gesture.y) < DRAG_PX) return;
      gesture.started = true;
      gesture.ghost = makeGhost(gesture);
      document.body.classList.add("dragging");
    }
    event.preventDefault();
    update(gesture, event);
    place(gesture);
    scheduleCheck(gesture);
  });

  document.addEventListener("pointerup", () => {
    const done = gesture;
    gesture = null;
    document.body.classList.remove("dragging");
    if (!done || !done.started) return;
    suppressClick = true; // the click that follows a drag is not a click on what it ended on
    setTimeout(() => { suppressClick = false; }, 0);
    drop(done);
  });

  document.addEventListener("click", (event) => {
    if (suppressClick) { event.stopPropagation(); event.preventDefault(); }
  }, true);

  // A booking's or blackout's details: one delegated listener for every box in the grid
  // (grid_html.py writes no hx-get per box). Enter and Space on the focused box click it too.
  document.addEventListener("click", (event) => {
    const box = event.target.closest("#grid [data-event]");
    if (!box) return;
    const url = grid().dataset.eventUrl.replace(/\/0\/$/, `/${box.dataset.event}/`);
    htmx.ajax("GET", url, { target: "#panel" });
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (gesture) { removeGhost(gesture); gesture = null; document.body.classList.remove("dragging"); return; }
    closePanel();
  });

  // ---------------------------------------------------------------- while dragging

  function update(g, event) {
    const minute = minuteAt(g.column, event.clientY);
    if (g.kind === "book") {
      g.start = Math.min(g.anchor, minute);
      g.end = Math.max(g.anchor + SNAP, minute);
    } else if (g.kind === "resize") {
      g.end = Math.max(g.start + SNAP, minute);
    } else {
      g.target = columnAt(event.clientX, event.clientY) || g.target;
      const at = minuteAt(g.target, event.clientY);
      g.start = clamp(snap(at - g.offset), 0, DAY - g.length);
      g.end = g.start + g.length;
    }
  }

  function makeGhost(g) {
    const ghost = document.createElement("div");
    ghost.className = "ghost";
    ghost.setAttribute("role", "status");
    ghost.innerHTML = '<span class="ghost-time"></span><div class="ghost-check">Checking…</div>';
    if (g.booking) g.booking.classList.add("being-dragged");
    return ghost;
  }

  function place(g) {
    const ghost = g.ghost;
    if (ghost.parentElement !== g.target) g.target.appendChild(ghost);
    ghost.style.setProperty("--top", g.start);
    ghost.style.setProperty("--height", g.end - g.start);
    ghost.querySelector(".ghost-time").textContent = `${clock(g.start)}–${clock(g.end)}`;
  }

  function params(g) {
    const values = { day: g.target.dataset.day, start: g.start, end: g.end };
    if (g.kind === "book") {
      values.resources = g.column.dataset.resource;
    } else {
      values.event = g.booking.dataset.event;
      values.from = g.column.dataset.resource;
      values.to = g.target.dataset.resource;
    }
    return new URLSearchParams(values);
  }

  function scheduleCheck(g) {
    const query = params(g).toString();
    if (query === g.checking) return;
    g.checking = query;
    clearTimeout(g.timer);
    g.timer = setTimeout(() => check(g, query), DEBOUNCE_MS);
  }

  async function check(g, query) {
    if (g.request) g.request.abort();
    g.request = new AbortController();
    try {
      const response = await fetch(`${grid().dataset.checkUrl}?${query}`, {
        headers: { "HX-Request": "true" }, signal: g.request.signal,
      });
      const html = await response.text();
      if (query !== g.checking) return;
      g.checked = query;
      g.conflicts = Number(response.headers.get("X-Conflicts") || 0);
      g.ghost.classList.toggle("has-conflict", g.conflicts > 0);
      g.ghost.querySelector(".ghost-check").innerHTML = html;
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }

  // ---------------------------------------------------------------- drop

  function drop(g) {
    clearTimeout(g.timer);
    const query = params(g);
    if (g.kind === "book") {
      const values = { day: query.get("day"), start: g.start, end: g.end, resource: g.column.dataset.resource };
      g.ghost.classList.add("pending");
      htmx.ajax("GET", `${grid().dataset.bookUrl}?${new URLSearchParams(values)}`, { target: "#panel" });
      return;
    }
    const [top, bottom, column] = g.original;
    if (g.start === top && g.end === bottom && g.target === column) { removeGhost(g); return; }
    g.ghost.classList.add("pending");
    const url = grid().dataset.eventUrl.replace(/\/0\/$/, `/${g.booking.dataset.event}/move/`);
    if (g.checked === query.toString() && g.conflicts > 0) {
      // The drag showed conflicts: ask before saving (with "move anyway" where allowed).
      htmx.ajax("GET", `${url}?${query}`, { target: "#panel" });
    } else {
      htmx.ajax("POST", url, { target: "#panel", values: Object.fromEntries(query) });
    }
  }

  function removeGhost(g) {
    if (g.ghost) g.ghost.remove();
    if (g.booking) g.booking.classList.remove("being-dragged");
  }

  function clearGhosts() {
    document.querySelectorAll("#grid .ghost").forEach((ghost) => ghost.remove());
    document.querySelectorAll("#grid .being-dragged").forEach((el) => el.classList.remove("being-dragged"));
  }

  // ---------------------------------------------------------------- panel and reloads

  function closePanel() {
    const element = panel();
    if (element) element.innerHTML = "";
    clearGhosts();
  }

  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-panel]");
    if (closer) closePanel();
  });

  // Focus the panel's first field when it opens, so the keyboard path continues there; a panel
  // without fields, its first button. (One selector for both would pick the header's close
  // button, which comes first in the document.)
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target.id !== "panel") return;
    const first = target.querySelector("input:not([type=hidden]), select, textarea") || target.querySelector("button");
    if (first) first.focus({ preventScroll: true });
  });

  // The booking panel lists the templates its booking type takes (a live stream a live entry, a
  // recording or a meeting a media entry, a blackout none): the others are hidden, and a choice
  // the new type cannot take falls back to "None". Without this script every template is listed,
  // grouped by entry type, and the server refuses the wrong one on the field.
  function offerTemplates(form) {
    const type = form.querySelector("select[name=type]");
    const select = form.querySelector("select[name=template_entry][data-template-types]");
    if (!type || !select) return;
    const wanted = JSON.parse(select.dataset.templateTypes)[type.value];
    for (const option of select.querySelectorAll("option[data-entry-type]")) {
      option.hidden = option.disabled = option.dataset.entryType !== wanted;
    }
    for (const group of select.querySelectorAll("optgroup")) {
      group.hidden = !group.querySelector("option:not([hidden])");
    }
    if (select.selectedOptions[0]?.disabled) select.value = "";
  }
  document.addEventListener("change", (event) => {
    const form = event.target.closest(".booking-form");
    if (form && event.target.name === "type") offerTemplates(form);
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "panel") event.detail.target.querySelectorAll(".booking-form").forEach(offerTemplates);
  });

  // A reloaded grid keeps the scroll position (the user's place in the day and the columns).
  let scroll = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id === "grid") scroll = [grid().scrollTop, grid().scrollLeft];
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (event.detail.target.id !== "grid" && !event.detail.elt.matches?.("#grid")) return;
    if (scroll && grid()) [grid().scrollTop, grid().scrollLeft] = scroll;
  });

  // On first load, show the working day (or now) rather than midnight.
  function scrollToDay() {
    const wrap = grid();
    const body = wrap && wrap.querySelector(".day-body");
    if (!body) return;
    const now = wrap.querySelector(".now-line");
    const minute = now ? Number(now.style.getPropertyValue("--top")) - 90 : 7 * 60;
    wrap.scrollTop = (clamp(minute, 0, DAY) / DAY) * body.getBoundingClientRect().height;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scrollToDay);
  else scrollToDay();
})();
