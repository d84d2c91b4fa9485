// The staff calendar's gestures: drag on empty time to book, drag a booking to move it (to
// another time, day or resource), drag its end edge to resize it; the same with the keyboard on
// a focused booking. Every layout follows one contract (docs: the #grid wrapper's data-* URLs,
// cells `.col[data-resource][data-day]` spanning a day, `data-axis="x"` where time runs left to
// right, boxes `.ev[data-event]` placed by --top/--height minutes). While a gesture goes on, the
// server is asked for conflicts and the answer shows on the ghost before anything is saved.
// Everything else (panels, forms, reloads) is htmx, but for the booking panel's template list,
// which follows the booking type chosen.
(() => {
  "use strict";
  const DAY = 1440;
  const SNAP = 15;
  const HOUR = 60;
  const DEBOUNCE_MS = 120; // after the first check, which goes at once: the note within 200 ms
  const DRAG_PX = 4; // below this a press is a click: it opens the booking's details
  const LONG_PRESS_MS = 450; // a finger held this long on empty time starts a booking
  const LONG_PRESS_SLOP_PX = 8; // a finger that moves more before then is scrolling the grid
  const EDGE_PX = 40; // dragging this close to an edge of #grid scrolls it...
  const EDGE_SPEED = 20; // ...by up to this many pixels a frame, faster towards the edge

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
  let swallowClick = false; // a drag cancelled with Escape: the click its release makes is no click
  let refocus = null; // the booking moved with the keyboard, to focus again once the grid reloads

  const grid = () => document.getElementById("grid");
  const panel = () => document.getElementById("panel");
  const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
  const snap = (minute) => Math.round(minute / SNAP) * SNAP;
  const clock = (minute) =>
    `${String(Math.floor(minute / 60) % 24).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
  const acrossX = (cell) => cell.dataset.axis === "x";

  function minuteAt(cell, x, y) {
    const box = cell.getBoundingClientRect();
    const fraction = acrossX(cell) ? (x - box.left) / box.width : (y - box.top) / box.height;
    return clamp(snap(fraction * DAY), 0, DAY);
  }

  function cellAt(x, y) {
    const hit = document.elementFromPoint(x, y);
    return hit ? hit.closest("#grid .col") : null;
  }

  // ---------------------------------------------------------------- pointers: mouse, pen, touch

  // Mouse and pen start a drag once they move a few pixels. A finger on a booking does the same
  // (movable boxes have touch-action: none); a finger on empty time scrolls the grid, unless it
  // stays still for LONG_PRESS_MS: then it starts a booking.
  document.addEventListener("pointerdown", (event) => {
    if (!event.isPrimary || event.button !== 0) return;
    // A keyboard move abandoned for the pointer, or a press whose release never came (outside
    // the window, before it dragged): a new press starts afresh.
    if (gesture) cancel(gesture);
    const wrap = grid();
    if (!wrap || !wrap.dataset.canBook) return;
    const cell = event.target.closest("#grid .col");
    if (!cell) return;
    const booking = event.target.closest(".ev");
    if (booking && !booking.dataset.movable) return; // cancelled or multi-day: click only
    const minute = minuteAt(cell, event.clientX, event.clientY);
    if (booking) {
      gesture = fromBox(booking, cell, event.target.closest(".resize") ? "resize" : "move", minute);
    } else {
      const anchor = Math.min(minute, DAY - SNAP);
      gesture = { kind: "book", column: cell, target: cell, anchor, start: anchor, end: anchor + SNAP };
    }
    Object.assign(gesture, {
      pointer: { id: event.pointerId, type: event.pointerType },
      x: event.clientX, y: event.clientY, lastX: event.clientX, lastY: event.clientY, started: false,
    });
    if (event.pointerType === "touch" && !booking) {
      const g = gesture;
      g.waiting = setTimeout(() => pressedLong(g), LONG_PRESS_MS);
    }
  });

  function pressedLong(g) {
    g.waiting = null;
    if (gesture !== g) return;
    begin(g);
    follow(g);
  }

  document.addEventListener("pointermove", (event) => {
    const g = gesture;
    if (!g || !g.pointer || event.pointerId !== g.pointer.id) return;
    g.lastX = event.clientX;
    g.lastY = event.clientY;
    if (!g.started) {
      const moved = Math.hypot(event.clientX - g.x, event.clientY - g.y);
      if (g.waiting) {
        if (moved > LONG_PRESS_SLOP_PX) end(g); // a swipe: the browser scrolls the grid
        return;
      }
      if (moved < DRAG_PX) return;
      begin(g);
    }
    event.preventDefault();
    follow(g);
  });

  document.addEventListener("pointerup", (event) => {
    if (swallowClick) {
      swallowClick = false;
      suppressNextClick();
    }
    const g = gesture;
    if (!g || !g.pointer || event.pointerId !== g.pointer.id) return;
    end(g);
    if (!g.started) return;
    suppressNextClick(); // the click that follows a drag is not a click on what it ended on
    drop(g);
  });

  // The browser took the pointer (a scroll began, the touch left the screen's reach): no drop.
  document.addEventListener("pointercancel", (event) => {
    if (gesture && gesture.pointer && event.pointerId === gesture.pointer.id) cancel(gesture);
  });

  // Once a finger drags, the page must not scroll under it, nor offer its long-press menu.
  // (touch-action cannot change in the middle of a touch; cancelling its touchmove can.)
  const fingerDragging = () => gesture && gesture.started && gesture.pointer && gesture.pointer.type === "touch";
  document.addEventListener("touchmove", (event) => { if (fingerDragging()) event.preventDefault(); }, { passive: false });
  document.addEventListener("contextmenu", (event) => {
    if (gesture && gesture.pointer && gesture.pointer.type === "touch") event.preventDefault();
  });

  function suppressNextClick() {
    suppressClick = true;
    setTimeout(() => { suppressClick = false; }, 0);
  }

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

  // ---------------------------------------------------------------- keyboard

  // On a focused booking: arrows along the time axis move it by a slot (Shift: an hour), Alt
  // with them moves its end instead; arrows across go to the neighbouring column or row (Shift:
  // the same resource's previous or next day). Enter drops it where the ghost is, Escape cancels.
  const TIME_KEYS = { y: { ArrowUp: -1, ArrowDown: 1 }, x: { ArrowLeft: -1, ArrowRight: 1 } };
  const CELL_KEYS = { y: { ArrowLeft: -1, ArrowRight: 1 }, x: { ArrowUp: -1, ArrowDown: 1 } };
  const HELP = {
    y: "Up and Down move this booking by 15 minutes, with Shift by an hour; Alt with them moves its end. "
      + "Left and Right move it to the next column, with Shift to the next day. Enter moves it, Escape cancels.",
    x: "Left and Right move this booking by 15 minutes, with Shift by an hour; Alt with them moves its end. "
      + "Up and Down move it to the next row, with Shift to the next day. Enter moves it, Escape cancels.",
  };

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (!gesture) { closePanel(); return; }
      if (gesture.started && gesture.pointer) swallowClick = true;
      cancel(gesture);
      event.preventDefault();
      return;
    }
    const box = event.target.closest && event.target.closest("#grid .ev[data-movable]");
    if (!box || !grid().dataset.canBook || event.ctrlKey || event.metaKey) return;
    const g = gesture;
    if (event.key === "Enter" && g && g.keyboard && g.booking === box) {
      event.preventDefault(); // not the click that opens the details
      end(g);
      drop(g);
      return;
    }
    const cell = box.closest("#grid .col");
    const axis = cell && acrossX(cell) ? "x" : "y";
    const along = TIME_KEYS[axis][event.key];
    const across = CELL_KEYS[axis][event.key];
    if (!cell || (!along && !across)) return;
    event.preventDefault(); // the grid does not scroll, and Alt+Left is not "Back"
    nudge(keyboardGesture(box, cell), event, along, across);
  });

  function keyboardGesture(box, cell) {
    if (gesture && gesture.keyboard && gesture.booking === box) return gesture;
    if (gesture) cancel(gesture);
    gesture = fromBox(box, cell, "move", 0);
    gesture.keyboard = true;
    begin(gesture);
    return gesture;
  }

  function nudge(g, event, along, across) {
    if (along) {
      const delta = along * (event.shiftKey ? HOUR : SNAP);
      if (event.altKey) {
        g.end = clamp(g.end + delta, g.start + SNAP, DAY);
      } else {
        const length = g.end - g.start;
        g.start = clamp(g.start + delta, 0, DAY - length);
        g.end = g.start + length;
      }
    } else if (!event.altKey) {
      g.target = neighbour(g.target, across, event.shiftKey) || g.target;
    }
    scheduleCheck(g);
    place(g);
    g.ghost.scrollIntoView({ block: "nearest", inline: "nearest" });
    announce(`${slotWords(g)}. Checking for conflicts.`);
  }

  // The next cell in the grid's order (in a timeline, the next row's cell of the same day), or
  // with byDay the same resource's cell of the next day.
  function neighbour(cell, step, byDay) {
    let selector = ".col";
    if (byDay) selector = `.col[data-resource="${cell.dataset.resource}"]`;
    else if (acrossX(cell)) selector = `.col[data-day="${cell.dataset.day}"]`;
    const cells = [...grid().querySelectorAll(selector)];
    return cells[cells.indexOf(cell) + step] || null;
  }

  // The help a screen reader gives with a movable booking, said for the axis it lies on.
  document.addEventListener("focusin", (event) => {
    const box = event.target.closest && event.target.closest("#grid .ev[data-movable]");
    if (!box || !grid().dataset.canBook) return;
    const cell = box.closest("#grid .col");
    help().textContent = HELP[cell && acrossX(cell) ? "x" : "y"];
    box.setAttribute("aria-describedby", "gesture-help");
  });

  // Leaving the booking (Tab, a click elsewhere) abandons its keyboard move.
  document.addEventListener("focusout", (event) => {
    if (gesture && gesture.keyboard && event.target === gesture.booking) cancel(gesture);
  });

  // ---------------------------------------------------------------- a gesture's life

  function fromBox(booking, cell, kind, minute) {
    const top = Number(booking.style.getPropertyValue("--top"));
    const height = Number(booking.style.getPropertyValue("--height"));
    return {
      kind, booking, column: cell, target: cell, offset: minute - top, length: height,
      start: top, end: top + height, original: [top, top + height, cell],
    };
  }

  // The ghost is made here but placed by the caller (follow, nudge), after the first check has
  // gone: reading the layout (where the pointer is) before anything on the page changes, and
  // sending the question before the page restyles for the drag, keeps the first note quick on a
  // page of thousands of boxes (bench/drag_conflict.py).
  function begin(g) {
    g.started = true;
    g.ghost = makeGhost();
    if (!g.pointer) return;
    try {
      grid().setPointerCapture(g.pointer.id); // moves outside the grid (or the window) still reach us
      g.captured = true;
    } catch (error) {
      // the pointer is already gone: its pointerup or pointercancel ends the gesture
    }
    scrollNearEdges(g);
  }

  function follow(g) {
    update(g, g.lastX, g.lastY);
    scheduleCheck(g);
    place(g);
  }

  // The gesture stops listening: no more frames, no capture, no timers. Its ghost stays for drop.
  function end(g) {
    if (gesture === g) gesture = null;
    clearTimeout(g.waiting);
    cancelAnimationFrame(g.frame);
    const wrap = grid();
    if (wrap) wrap.classList.remove("is-dragging");
    if (g.captured && wrap && wrap.hasPointerCapture(g.pointer.id)) wrap.releasePointerCapture(g.pointer.id);
  }

  function cancel(g) {
    end(g);
    clearTimeout(g.timer);
    if (g.request) g.request.abort();
    g.checking = null;
    removeGhost(g);
    if (g.started) announce(g.kind === "book" ? "Booking cancelled." : "Move cancelled.");
  }

  function update(g, x, y) {
    if (g.kind === "book") {
      const minute = minuteAt(g.column, x, y);
      g.start = Math.min(g.anchor, minute);
      g.end = Math.max(g.anchor + SNAP, minute);
    } else if (g.kind === "resize") {
      g.end = Math.max(g.start + SNAP, minuteAt(g.column, x, y));
    } else {
      g.target = cellAt(x, y) || g.target;
      g.start = clamp(snap(minuteAt(g.target, x, y) - g.offset), 0, DAY - g.length);
      g.end = g.start + g.length;
    }
  }

  function makeGhost() {
    const ghost = document.createElement("div");
    ghost.className = "ghost";
    ghost.setAttribute("aria-hidden", "true"); // the live region below speaks for it
    ghost.innerHTML = '<span class="ghost-time"></span><div class="ghost-check">Checking…</div>';
    return ghost;
  }

  function place(g) {
    const ghost = g.ghost;
    if (!ghost.parentElement) { // the first placing: the page shows the drag from here on
      if (g.booking) g.booking.classList.add("being-dragged");
      // One element restyled, not the page (calendar.css's body.dragging restyles every box:
      // ~60 ms before the first frame of a timeline of 300 rooms); the pointer is captured
      // by #grid, so its cursor is the one shown.
      if (g.pointer) grid().classList.add("is-dragging");
    }
    if (ghost.parentElement !== g.target) {
      ghost.classList.toggle("note-before", noteWouldOverflow(g.target));
      g.target.appendChild(ghost);
    }
    ghost.style.setProperty("--top", g.start);
    ghost.style.setProperty("--height", g.end - g.start);
    ghost.querySelector(".ghost-time").textContent = `${clock(g.start)}–${clock(g.end)}`;
  }

  // The conflict note sits beside the ghost (after it across time in a timeline, to its right in
  // a column); near the grid's right edge it goes to the left instead, where it can be read.
  function noteWouldOverflow(cell) {
    if (acrossX(cell)) return false;
    return cell.getBoundingClientRect().right + 260 > grid().getBoundingClientRect().right;
  }

  // ---------------------------------------------------------------- scrolling at the edges

  // While a pointer drags within EDGE_PX of an edge of the grid's visible cells (or past it, over
  // a sticky head or outside the grid), the grid scrolls that way, faster closer to the edge, and
  // the ghost follows the pointer over what scrolled in. A new booking or a resize stays in its
  // cell, so it scrolls along the time axis only.
  function scrollNearEdges(g) {
    const wrap = grid();
    let insetTop, insetLeft;
    const timeOnly = g.kind !== "move";
    const step = () => {
      if (gesture !== g) return;
      if (insetTop === undefined) [insetTop, insetLeft] = stickyInsets(wrap); // in a frame: after the first check
      const box = wrap.getBoundingClientRect();
      const left = box.left + wrap.clientLeft;
      const top = box.top + wrap.clientTop;
      let dx = speed(g.lastX - (left + insetLeft), left + wrap.clientWidth - g.lastX);
      let dy = speed(g.lastY - (top + insetTop), top + wrap.clientHeight - g.lastY);
      if (timeOnly) [dx, dy] = acrossX(g.column) ? [dx, 0] : [0, dy];
      if (dx || dy) {
        const before = wrap.scrollLeft + wrap.scrollTop * 1e6;
        wrap.scrollLeft += dx;
        wrap.scrollTop += dy;
        if (wrap.scrollLeft + wrap.scrollTop * 1e6 !== before) follow(g);
      }
      g.frame = requestAnimationFrame(step);
    };
    g.frame = requestAnimationFrame(step);
  }

  function speed(fromStart, toEnd) {
    const rate = (distance) => Math.ceil(EDGE_SPEED * Math.min(1, (EDGE_PX - distance) / EDGE_PX));
    if (fromStart < EDGE_PX) return -rate(fromStart);
    if (toEnd < EDGE_PX) return rate(toEnd);
    return 0;
  }

  // What the sticky heads cover at the top and left of the grid: where its first cell begins in
  // the scrolled content (below the day or time heads, right of the time axis or the row heads).
  function stickyInsets(wrap) {
    const cell = wrap.querySelector(".col");
    if (!cell) return [0, 0];
    const box = wrap.getBoundingClientRect();
    const first = cell.getBoundingClientRect();
    const top = first.top - box.top - wrap.clientTop + wrap.scrollTop;
    const left = first.left - box.left - wrap.clientLeft + wrap.scrollLeft;
    return [clamp(top, 0, wrap.clientHeight / 3), clamp(left, 0, wrap.clientWidth / 3)];
  }

  // ---------------------------------------------------------------- conflicts while it goes

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

  // A new slot clears the note at once (an answer about the old slot would mislead) and aborts
  // the question about it; the first question goes at once, the next ones once the slot settles.
  function scheduleCheck(g) {
    const query = params(g).toString();
    if (query === g.checking) return;
    const first = g.checking === undefined;
    g.checking = query;
    g.checked = null;
    g.conflicts = 0;
    g.ghost.classList.remove("has-conflict");
    g.ghost.querySelector(".ghost-check").textContent = "Checking…";
    clearTimeout(g.timer);
    if (g.request) g.request.abort();
    if (first) check(g, query);
    else g.timer = setTimeout(() => check(g, query), DEBOUNCE_MS);
  }

  async function check(g, query) {
    const request = (g.request = new AbortController());
    try {
      const response = await fetch(`${grid().dataset.checkUrl}?${query}`, {
        headers: { "HX-Request": "true" }, signal: request.signal,
      });
      const html = await response.text();
      if (query !== g.checking || request.signal.aborted) return; // a stale answer never paints
      g.checked = query;
      g.conflicts = Number(response.headers.get("X-Conflicts") || 0);
      g.ghost.classList.toggle("has-conflict", g.conflicts > 0);
      const note = g.ghost.querySelector(".ghost-check");
      note.innerHTML = html;
      announce(`${slotWords(g)}: ${note.textContent.replace(/\s+/g, " ").trim()}`);
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }

  function slotWords(g) {
    const where = g.target.getAttribute("aria-label") || g.target.dataset.day;
    return `${clock(g.start)} to ${clock(g.end)}, ${where}`;
  }

  // One polite live region for every gesture: where the ghost is and what it collides with.
  function announce(text) {
    let region = document.getElementById("gesture-status");
    if (!region) {
      region = document.createElement("div");
      region.id = "gesture-status";
      region.className = "gesture-status";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = text;
  }

  function help() {
    let element = document.getElementById("gesture-help");
    if (!element) {
      element = document.createElement("p");
      element.id = "gesture-help";
      element.hidden = true;
      document.body.appendChild(element);
    }
    return element;
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
      if (g.keyboard) refocus = g.booking.dataset.event; // the keyboard stays on it after the reload
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
    const moved = refocus && grid() && grid().querySelector(`.ev[data-event="${refocus}"]`);
    refocus = null;
    if (moved) moved.focus({ preventScroll: true });
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
