// The review screen from the keyboard: j/k move between tags, x toggles, / adds, Enter confirms.
(function () {
  "use strict";
  if (window.reviewKeys) return;
  window.reviewKeys = true;

  const boxes = () => Array.from(document.querySelectorAll("#review-form .review-row input[name=tag]"));
  function move(step) {
    const all = boxes();
    if (!all.length) return;
    let index = all.indexOf(document.activeElement);
    index = index < 0 ? 0 : Math.max(0, Math.min(all.length - 1, index + step));
    all[index].focus();
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const form = document.getElementById("review-form");
    const start = document.getElementById("start-review");
    if (!form) {
      // The review list: Enter opens the first video waiting.
      if (start && event.key === "Enter" && event.target === document.body) start.click();
      return;
    }
    const target = event.target;
    const typing = target instanceof HTMLInputElement && !["checkbox", "radio"].includes(target.type);
    if (typing) {
      if (event.key === "Escape") target.blur();
      return; // Enter in the tag field submits the form natively
    }
    let handled = true;
    if (event.key === "j" || event.key === "ArrowDown") move(1);
    else if (event.key === "k" || event.key === "ArrowUp") move(-1);
    else if (event.key === "x") {
      const box = boxes().includes(target) ? target : boxes()[0];
      if (box) {
        box.checked = box.type === "radio" ? true : !box.checked;
        box.focus();
        showDiff();
      }
    } else if (event.key === "/") document.getElementById("add-path").focus();
    else if (event.key === "Enter" && !(target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement)) {
      const reason = document.getElementById("reason");
      if (reason.required && !reason.value.trim()) reason.focus();
      else form.requestSubmit();
    }
    else handled = false;
    if (handled) event.preventDefault();
  });
  // The change confirming would make, shown as it is being decided: "removes X, adds Y".
  // Removing a confirmed tag needs a reason, which the history keeps.
  function knownPath(value) {
    const list = document.getElementById("all-tags");
    return list && Array.from(list.options).some((option) => option.value === value) ? value : "";
  }
  function showDiff() {
    const form = document.getElementById("review-form");
    if (!form) return;
    const removes = [];
    const adds = [];
    for (const box of boxes()) {
      const confirmed = box.hasAttribute("data-confirmed");
      if (confirmed && !box.checked) removes.push(box.dataset.path);
      if (!confirmed && box.checked) adds.push(box.dataset.path);
    }
    const typed = knownPath(document.getElementById("add-path").value.trim());
    if (typed && !adds.includes(typed) && !boxes().some((b) => b.dataset.path === typed && b.hasAttribute("data-confirmed"))) {
      adds.push(typed);
    }
    const set = (id, items) => {
      const line = document.getElementById(id);
      line.hidden = !items.length;
      line.querySelector("span").textContent = items.join(", ");
    };
    set("diff-removes", removes);
    set("diff-adds", adds);
    document.getElementById("diff-none").hidden = Boolean(removes.length || adds.length);
    const reason = document.getElementById("removal-reason");
    reason.hidden = !removes.length;
    document.getElementById("reason").required = Boolean(removes.length);
  }
  document.addEventListener("change", (event) => {
    if (event.target.closest && event.target.closest("#review-form")) showDiff();
  });
  document.addEventListener("input", (event) => {
    if (event.target.id === "add-path") showDiff();
  });
  htmx.onLoad(() => {
    showDiff();
    const first = boxes()[0];
    if (first && document.activeElement === document.body) first.focus();
  });
})();
