// The labeling screen's keyboard, player sync, draft keeping and activity clock.
// Everything is bound once on the document, so it keeps working when htmx swaps
// in the next video's screen.
(function () {
  "use strict";
  if (window.labeling) return;

  const IDLE_AFTER_MS = 60 * 1000;
  const SEEK_SECONDS = 5;

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));
  const main = () => document.getElementById("label-main");
  const player = () => document.getElementById("player");
  const annotationId = () => (main() ? main().dataset.annotation : null);

  // --- Activity: a second counts when the tab is visible and the annotator did
  // something in the last minute, or the video is playing. Idle time is never sent.
  let activeMs = 0;
  let lastTick = Date.now();
  let lastInput = Date.now();
  setInterval(() => {
    const now = Date.now();
    const video = player();
    const playing = video && !video.paused && !video.ended;
    if (document.visibilityState === "visible" && (playing || now - lastInput < IDLE_AFTER_MS)) {
      activeMs += now - lastTick;
    }
    lastTick = now;
  }, 1000);
  ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "touchstart"].forEach((type) =>
    document.addEventListener(type, () => { lastInput = Date.now(); }, { passive: true, capture: true })
  );
  function takeActiveSeconds() {
    const seconds = activeMs / 1000;
    activeMs = 0;
    return seconds.toFixed(1);
  }
  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }
  window.addEventListener("pagehide", () => {
    const root = main();
    if (!root || !root.dataset.activityUrl || activeMs < 1000) return;
    const form = new FormData();
    form.append("active_seconds", takeActiveSeconds());
    form.append("csrfmiddlewaretoken", csrfToken());
    navigator.sendBeacon(root.dataset.activityUrl, form);
  });
  document.body.addEventListener("htmx:configRequest", (event) => {
    const params = event.detail.parameters;
    if (event.detail.verb === "post" && event.detail.path.includes("/annotations/")) {
      if (params && params.active_seconds === undefined) params.active_seconds = takeActiveSeconds();
    }
  });

  // --- Draft of what was typed but not sent, per annotation, in localStorage.
  const draftKey = () => "label-draft:" + annotationId();
  function draftRead() {
    try {
      return JSON.parse(localStorage.getItem(draftKey()) || "{}");
    } catch (error) {
      return {};
    }
  }
  function draftWrite(field, value) {
    if (!annotationId()) return;
    const draft = draftRead();
    if (value) draft[field] = value;
    else delete draft[field];
    if (Object.keys(draft).length) localStorage.setItem(draftKey(), JSON.stringify(draft));
    else localStorage.removeItem(draftKey());
  }
  function draftRestore() {
    const draft = draftRead();
    const search = $("#tag-search");
    const reason = $("#skip-reason");
    if (search && draft.q && !search.value) search.value = draft.q;
    if (reason && draft.reason && !reason.value) reason.value = draft.reason;
  }

  // --- The decision rows: j/k move a cursor, a/r/x decide on the row under it.
  let cursor = 0;
  let cursorAnnotation = null;
  const rows = () => $$("#decisions .decision-row");
  function showCursor(scroll) {
    const all = rows();
    if (!all.length) return;
    cursor = Math.max(0, Math.min(cursor, all.length - 1));
    all.forEach((row, index) => {
      row.classList.toggle("current", index === cursor);
      row.setAttribute("aria-current", index === cursor ? "true" : "false");
    });
    if (scroll) all[cursor].scrollIntoView({ block: "nearest" });
  }
  function revision() {
    const input = $("#revision");
    return input ? input.value : "";
  }
  function decide(tagId, decision) {
    const root = main();
    if (!root || !tagId) return Promise.resolve();
    return htmx.ajax("POST", root.dataset.decideUrl, {
      target: "#decisions",
      swap: "outerHTML",
      values: { tag: tagId, decision: decision, revision: revision(), active_seconds: takeActiveSeconds() },
    });
  }
  function decideOnCursor(action) {
    const row = rows()[cursor];
    if (!row) return;
    const suggested = row.dataset.suggested === "1";
    let decision = action;
    if (action === "accept" && !suggested) return; // an added tag is already chosen
    if (action === "reject" && !suggested) decision = "clear";
    if (action === row.dataset.decision) return;
    decide(row.dataset.tag, decision);
  }
  function toggleTag(tagId) {
    const row = $(`#decisions .decision-row[data-tag="${tagId}"]`);
    const chosen = row && (row.dataset.decision === "accept" || row.dataset.decision === "add");
    decide(tagId, chosen ? "clear" : "add");
  }
  function submit() {
    const root = main();
    if (!root || !root.dataset.submitUrl) return;
    const button = $("#submit-button");
    if (button && button.disabled) return; // a locked answer: nothing to hand in
    const id = annotationId();
    htmx
      .ajax("POST", root.dataset.submitUrl, {
        target: "#label-main",
        swap: "outerHTML",
        values: { revision: revision(), active_seconds: takeActiveSeconds() },
      })
      .then(() => {
        if (annotationId() !== id) localStorage.removeItem("label-draft:" + id);
      });
  }

  // --- Tag search: type, ↑/↓ choose, Enter adds, Esc leaves.
  function options() {
    return $$("#tag-options .tag-option");
  }
  function highlight(step) {
    const all = options();
    if (!all.length) return;
    let index = all.findIndex((option) => option.classList.contains("highlighted"));
    index = (index + step + all.length) % all.length;
    all.forEach((option, i) => {
      option.classList.toggle("highlighted", i === index);
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    all[index].scrollIntoView({ block: "nearest" });
  }
  function closeSearch(input) {
    input.value = "";
    draftWrite("q", "");
    const list = $("#tag-options");
    if (list) {
      list.innerHTML = "";
      list.dataset.query = "";
    }
    input.setAttribute("aria-expanded", "false");
    input.blur();
  }
  async function addFromSearch(input) {
    const query = input.value.trim();
    const list = $("#tag-options");
    if (!query) {
      closeSearch(input);
      return;
    }
    let chosen = null;
    if (list && list.dataset.query === input.value) {
      chosen = $("#tag-options .tag-option.highlighted") || options()[0];
    } else {
      // The options for what was typed are not in yet: ask for them now, and take the best.
      const url = input.getAttribute("hx-get") + "?q=" + encodeURIComponent(input.value);
      const response = await fetch(url, { headers: { "HX-Request": "true" } });
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      chosen = html.querySelector(".tag-option");
      if (!chosen && list) list.outerHTML = html.body.innerHTML; // shows "No tag matches"
    }
    if (!chosen) return;
    closeSearch(input);
    await decide(chosen.dataset.tag, "add");
  }
  // An answer that arrives after the text changed (or was cleared) is dropped.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const input = $("#tag-search");
    if (!input || event.detail.target.id !== "tag-options") return;
    const asked = new URL(event.detail.xhr.responseURL).searchParams.get("q") || "";
    if (asked !== input.value || document.activeElement !== input) event.detail.shouldSwap = false;
  });

  // --- Player, transcript and keyframes: static/js/player.js plays, seeks and highlights.
  const media = () => window.workbenchPlayer || {};
  function seekBy(delta) {
    if (media().seekBy) media().seekBy(delta);
  }
  function togglePlay() {
    if (media().togglePlay) media().togglePlay();
  }
  function stepRate(direction) {
    if (media().stepRate) media().stepRate(direction);
  }
  function findInTranscript(query) {
    const needle = query.trim().toLocaleLowerCase();
    let count = 0;
    $$("#transcript .segment").forEach((segment) => {
      const hit = needle && segment.textContent.toLocaleLowerCase().includes(needle);
      segment.classList.toggle("match", Boolean(hit));
      segment.classList.toggle("dim", Boolean(needle) && !hit);
      if (hit) count += 1;
    });
    const counter = $("#transcript-count");
    if (counter) counter.textContent = needle ? `${count}` : "";
    const first = $("#transcript .segment.match");
    if (first) first.scrollIntoView({ block: "nearest" });
  }

  // --- Dialogs.
  function openSkip() {
    const dialog = $("#skip-dialog");
    const button = $("#skip-button");
    if (!dialog || (button && button.disabled)) return;
    dialog.showModal();
    draftRestore();
    $("#skip-reason").focus();
  }
  function toggleHelp() {
    const dialog = $("#help-dialog");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // --- Clicks.
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-decide], .tag-option, [data-submit], [data-skip], [data-help], [data-close-dialog]");
    if (!target || !main()) return;
    if (target.matches("[data-decide]")) {
      const row = target.closest(".decision-row");
      cursor = rows().indexOf(row);
      decide(row.dataset.tag, target.dataset.decide);
    } else if (target.matches(".tag-option")) {
      const input = $("#tag-search");
      if (input) closeSearch(input);
      decide(target.dataset.tag, "add");
    } else if (target.matches("[data-submit]")) {
      submit();
    } else if (target.matches("[data-skip]")) {
      openSkip();
    } else if (target.matches("[data-help]")) {
      toggleHelp();
    } else if (target.matches("[data-close-dialog]")) {
      target.closest("dialog").close();
    }
  });

  document.addEventListener("input", (event) => {
    if (event.target.id === "tag-search") draftWrite("q", event.target.value);
    else if (event.target.id === "skip-reason") draftWrite("reason", event.target.value);
    else if (event.target.id === "transcript-search") findInTranscript(event.target.value);
  });

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "skip-form") {
      draftWrite("reason", "");
      event.detail.elt.closest("dialog").close();
    }
  });

  // --- Keys.
  function isTyping(element) {
    return (
      element instanceof HTMLInputElement ||
      element instanceof HTMLTextAreaElement ||
      element instanceof HTMLSelectElement ||
      (element && element.isContentEditable)
    );
  }
  function onSearchKey(event, input) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      addFromSearch(input);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeSearch(input);
    }
  }
  document.addEventListener("keydown", (event) => {
    if (!main() || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const help = $("#help-dialog");
    if (help && help.open) {
      if (event.key === "?") {
        event.preventDefault();
        help.close();
      }
      return;
    }
    if ($("dialog[open]")) return; // the skip dialog: its form takes Enter, Esc closes it
    if (target.id === "tag-search") return onSearchKey(event, target);
    if (isTyping(target)) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const onControl = target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement;
    const key = event.key;
    let handled = true;
    if (key === "j" || key === "ArrowDown") {
      cursor += 1;
      showCursor(true);
    } else if (key === "k" || key === "ArrowUp") {
      cursor -= 1;
      showCursor(true);
    } else if (key === "a") decideOnCursor("accept");
    else if (key === "r") decideOnCursor("reject");
    else if (key === "x" || key === "Delete" || key === "Backspace") decideOnCursor("clear");
    else if (key === "/" || key === "t") {
      const input = $("#tag-search");
      if (input) input.focus();
    } else if (key === "f") {
      const input = $("#transcript-search");
      if (input) input.focus();
    } else if (key === "Enter" && !onControl) submit();
    else if (key === "s") openSkip();
    else if (key === " " && (!onControl || target.id === "player")) togglePlay();
    else if (key === "ArrowLeft") seekBy(-SEEK_SECONDS);
    else if (key === "ArrowRight") seekBy(SEEK_SECONDS);
    else if (key === "<") stepRate(-1);
    else if (key === ">") stepRate(1);
    else if (key === "?") toggleHelp();
    else if (key === "g") {
      const panel = $("#guidelines");
      if (panel) panel.open = !panel.open;
    } else if (/^[0-9]$/.test(key)) {
      const hotkey = $(`#hotkeys [data-hotkey="${key}"]`);
      if (hotkey) toggleTag(hotkey.dataset.tag);
      else handled = false;
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // --- After every swap: keep the cursor, restore the typed draft.
  htmx.onLoad(() => {
    const id = annotationId();
    if (id !== cursorAnnotation) {
      cursorAnnotation = id;
      cursor = 0;
      draftRestore();
    }
    showCursor(false);
    const error = $("#decision-error");
    if (error) error.scrollIntoView({ block: "nearest" });
  });

  window.labeling = { decide, submit, takeActiveSeconds };
})();
