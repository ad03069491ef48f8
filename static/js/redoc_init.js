// Starts Redoc on the API docs page from a file, not an inline script. Redoc marks the
// <style> elements it writes with the nonce it is given; the nonce comes from a data
// attribute, since browsers hide a "nonce" attribute from scripts.
(function () {
  "use strict";
  const container = document.getElementById("redoc-container");
  if (!container || typeof Redoc === "undefined") return;
  Redoc.init(container.dataset.specUrl, { nonce: container.dataset.styleNonce }, container);
})();
