// The review screen from the keyboard: j/k move between tags, x toggles, / adds, Enter confirms.
(function () {
  "use strict";
  if (window.reviewKeys) return;
  window.reviewKeys = true;

  // A refused confirmation (422) comes back as the screen with the reason: show it.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "422", swap: true, error: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false },
  ];

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
      }
    } else if (event.key === "/") document.getElementById("add-path").focus();
    else if (event.key === "Enter" && !(target instanceof HTMLButtonElement || target instanceof HTMLAnchorElement)) form.requestSubmit();
    else handled = false;
    if (handled) event.preventDefault();
  });
  htmx.onLoad(() => {
    const first = boxes()[0];
    if (first && document.activeElement === document.body) first.focus();
  });
})();
