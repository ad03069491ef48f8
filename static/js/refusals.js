// The pages where a refused change (409 stale page, 422 invalid) comes back as the piece
// of the page that shows the reason (the labeling and review screens): htmx swaps it in
// like a success instead of dropping it.
htmx.config.responseHandling = [
  { code: "204", swap: false },
  { code: "409", swap: true, error: false },
  { code: "422", swap: true, error: false },
  { code: "[23]..", swap: true },
  { code: "[45]..", swap: false, error: true },
  { code: "...", swap: false },
];
