// The player on the video and labeling pages: a click on a transcript line or a keyframe
// plays from there, the line being spoken is highlighted and kept in view, and the
// speed control sets the playback rate (kept per browser). Bound once on the document,
// so it keeps working when htmx swaps a page part in.
(function () {
  "use strict";
  if (window.workbenchPlayer) return;

  const RATE_KEY = "player-rate";
  const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
  const player = () => document.getElementById("player");
  let activeSegment = null;

  function markSegment(time, scroll) {
    const segments = Array.from(document.querySelectorAll("#transcript .segment"));
    const current = segments.find(
      (segment) => parseFloat(segment.dataset.seek) <= time && time < parseFloat(segment.dataset.end)
    );
    if (current === activeSegment) return;
    if (activeSegment) {
      activeSegment.classList.remove("playing");
      activeSegment.removeAttribute("aria-current");
    }
    activeSegment = current || null;
    if (activeSegment) {
      activeSegment.classList.add("playing");
      activeSegment.setAttribute("aria-current", "true");
      if (scroll) activeSegment.scrollIntoView({ block: "nearest" });
    }
  }

  function seekTo(seconds, play) {
    const video = player();
    if (!video || !isFinite(seconds)) return;
    video.currentTime = Math.max(0, seconds);
    markSegment(video.currentTime, true);
    if (play) video.play().catch(() => {});
  }
  function seekBy(delta) {
    const video = player();
    if (video) seekTo(video.currentTime + delta, false);
  }
  function togglePlay() {
    const video = player();
    if (!video) return;
    if (video.paused) video.play().catch(() => {});
    else video.pause();
  }
  function setRate(rate) {
    const video = player();
    if (!video || !RATES.includes(rate)) return;
    video.playbackRate = rate;
    try {
      localStorage.setItem(RATE_KEY, String(rate));
    } catch (error) {
      // Private windows may refuse storage; the rate still applies to this video.
    }
    const control = document.querySelector("[data-speed-control]");
    if (control) control.value = String(rate);
  }
  function stepRate(direction) {
    const video = player();
    if (!video) return;
    const index = RATES.indexOf(video.playbackRate);
    const next = RATES[Math.max(0, Math.min(RATES.length - 1, (index < 0 ? 2 : index) + direction))];
    setRate(next);
  }
  function restoreRate() {
    let saved = NaN;
    try {
      saved = parseFloat(localStorage.getItem(RATE_KEY) || "");
    } catch (error) {
      saved = NaN;
    }
    if (RATES.includes(saved)) setRate(saved);
  }

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-seek]");
    if (!target || !player()) return;
    seekTo(parseFloat(target.dataset.seek), true);
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-speed-control]")) setRate(parseFloat(event.target.value));
  });
  document.addEventListener(
    "timeupdate",
    (event) => {
      if (event.target.id === "player") markSegment(event.target.currentTime, true);
    },
    true // timeupdate does not bubble; catch it on the way down
  );
  document.addEventListener(
    "loadedmetadata",
    (event) => {
      if (event.target.id === "player") restoreRate();
    },
    true
  );
  document.addEventListener("DOMContentLoaded", () => {
    activeSegment = null;
    restoreRate();
  });
  if (window.htmx) htmx.onLoad(() => {
    if (activeSegment && !document.body.contains(activeSegment)) activeSegment = null;
  });

  window.workbenchPlayer = { seekTo, seekBy, togglePlay, setRate, stepRate, markSegment };
})();
