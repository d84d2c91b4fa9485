// The resource timeline's groups (buildings): a button in each group's head folds its rows away
// or shows them again. Which groups are folded is kept in localStorage, so a reload, another
// day or the grid's own reload after a booking keeps them folded. Folded rows are `hidden`: not
// drawn at all, which is what keeps 300 rooms quick when only one building matters.
(() => {
  "use strict";
  const KEY = "timeline:collapsed";

  function folded() {
    try {
      return new Set(JSON.parse(localStorage.getItem(KEY) || "[]"));
    } catch {
      return new Set(); // unreadable (or storage refused): everything open
    }
  }

  function remember(groups) {
    try {
      localStorage.setItem(KEY, JSON.stringify([...groups]));
    } catch {
      // private mode or full storage: the fold still holds until the next page
    }
  }

  function show(button, open) {
    button.setAttribute("aria-expanded", String(open));
    const rows = document.getElementById(button.getAttribute("aria-controls"));
    if (rows) rows.hidden = !open;
  }

  function restore(root) {
    const groups = folded();
    if (!groups.size) return;
    root.querySelectorAll(".tl-toggle[data-group]").forEach((button) => {
      if (groups.has(button.dataset.group)) show(button, false);
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".tl-toggle[data-group]");
    if (!button) return;
    const open = button.getAttribute("aria-expanded") !== "true";
    show(button, open);
    const groups = folded();
    if (open) groups.delete(button.dataset.group);
    else groups.add(button.dataset.group);
    remember(groups);
  });

  // ---------------------------------------------------------------- buildings loaded when shown

  // Past the first screenful a building is a placeholder as tall as its rows (timeline_html.py)
  // until it comes within AHEAD of the view: then its rows (`?part=`) take its place. A folded
  // building's placeholder is hidden, never near the view, so it loads only once unfolded. After
  // a booking the grid reloads this way too: calendar.js keeps the scroll position, and the
  // placeholders there load at once.
  const AHEAD = "800px";
  let watcher = null;

  function load(placeholder) {
    watcher?.unobserve(placeholder);
    htmx.ajax("GET", placeholder.dataset.part, { target: placeholder, swap: "outerHTML" });
  }

  function watch(root) {
    const wrap = document.getElementById("grid"); // the scrolling box: a reload brings a new one
    if (!wrap) return;
    if (!watcher || watcher.root !== wrap) {
      watcher?.disconnect();
      const near = (entries) => entries.forEach((entry) => entry.isIntersecting && load(entry.target));
      watcher = new IntersectionObserver(near, { root: wrap, rootMargin: `${AHEAD} 0px` });
    }
    const placeholders = root.matches?.(".tl-lazy[data-part]") ? [root] : root.querySelectorAll(".tl-lazy[data-part]");
    placeholders.forEach((placeholder) => watcher.observe(placeholder));
  }

  // A building whose rows did not come (the server or the network failed) says so and offers to
  // try again, rather than "Loading…" for ever.
  function failed(event) {
    const placeholder = event.detail.target;
    if (!placeholder?.matches?.(".tl-lazy[data-part]")) return;
    const note = placeholder.querySelector(".tl-lazy-note");
    const name = note.textContent.replace(/^Loading |…$/g, "");
    placeholder.removeAttribute("aria-busy");
    note.innerHTML = "";
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "tl-retry";
    retry.textContent = `${name} could not be loaded. Try again`;
    retry.addEventListener("click", () => {
      note.textContent = `Loading ${name}…`;
      placeholder.setAttribute("aria-busy", "true");
      load(placeholder);
    });
    note.appendChild(retry);
  }
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);

  // htmx.onLoad runs for the first page and for every swapped-in grid, before it is painted:
  // folded groups are hidden before their placeholders are watched.
  htmx.onLoad(restore);
  htmx.onLoad(watch);
})();
