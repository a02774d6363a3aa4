/* Onboarding and connection details: print, and forms that are sent once (copy buttons: copy.js).
   A static file (no inline script), so a strict Content-Security-Policy can forbid inline code. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // A second click while the first submit is on its way does nothing (the server is safe either way).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-submit-once")) { return; }
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    var button = form.querySelector("button[type=submit]");
    if (button && button.getAttribute("data-busy-label")) { button.textContent = button.getAttribute("data-busy-label"); }
  });
  // Coming back with the browser's Back button: the form may be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) { form.removeAttribute("data-sent"); });
  });
})();
