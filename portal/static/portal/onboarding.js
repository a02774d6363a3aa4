/* Onboarding and connection details: copy buttons, print, and forms that are sent once.
   A static file (no inline script), so a strict Content-Security-Policy can forbid inline code. */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on another host: the older selection-based copy still works there.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "absolute";
      area.style.left = "-9999px";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function announce(message) {
    var status = document.getElementById("copy-status");
    if (status) { status.textContent = message; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source) { return; }
      var label = button.getAttribute("data-label") || button.textContent;
      button.setAttribute("data-label", label);
      copyText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        button.classList.add("copied");
        announce("Copied: " + source.textContent.trim().split("\n")[0]);
        window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("copied");
        }, 2500);
      }, function () {
        announce("The browser did not allow copying: select the text and copy it by hand.");
      });
      return;
    }
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
