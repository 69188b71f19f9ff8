// Follows a count that is not finished yet: asks the API for its status and
// reloads the page once it is done or failed. Served from 'self', as the
// Content-Security-Policy requires; without JavaScript, the page's
// <noscript> refresh does the same job.
(function () {
  "use strict";
  var status = document.querySelector("[data-follow]");
  if (!status) return;
  var delay = 500;

  function schedule() {
    delay = Math.min(delay * 1.5, 5000);
    window.setTimeout(check, delay);
  }

  function check() {
    fetch(status.getAttribute("data-follow"), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (count) {
        if (count && (count.status === "done" || count.status === "failed")) {
          window.location.reload();
        } else {
          schedule();
        }
      })
      .catch(schedule);  // offline for a moment: ask again later
  }

  window.setTimeout(check, delay);
})();
