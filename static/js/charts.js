// Charts drawn with the vendored Chart.js from data the page embeds with Django's
// json_script: <canvas data-chart="some-id"> reads {type, labels, datasets, options}
// from <script type="application/json" id="some-id">. No inline script, so the
// Content-Security-Policy needs no exception; htmx swaps get their charts too.
(function () {
  "use strict";
  if (window.workbenchCharts) return;
  window.workbenchCharts = true;

  function draw(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (canvas.dataset.drawn) return;
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const spec = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      new Chart(canvas, {
        type: spec.type || "bar",
        data: { labels: spec.labels || [], datasets: spec.datasets || [] },
        options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, spec.options || {}),
      });
    });
  }
  document.addEventListener("DOMContentLoaded", () => draw(document));
  if (window.htmx) htmx.onLoad((element) => draw(element));
})();
