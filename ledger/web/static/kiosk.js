// The kiosk's code changes every 30 seconds: fetch this page again and put its new code in
// place of the old one (a file of this site: the pages' CSP allows no inline script).  Without
// script the code shown stays good for its minute, and reloading the page shows a new one.
(function () {
  "use strict";
  var box = document.getElementById("kiosk-code");
  if (!box) {
    return;
  }
  var seconds = parseInt(box.getAttribute("data-refresh-seconds"), 10) || 30;

  function renew() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the kiosk answered " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("kiosk-code");
        if (fresh) {
          box.replaceWith(fresh);
          box = fresh;
        }
      })
      .catch(function () {
        // keep the code shown: the next try may work
      })
      .finally(function () {
        window.setTimeout(renew, seconds * 1000);
      });
  }

  window.setTimeout(renew, seconds * 1000);
})();
