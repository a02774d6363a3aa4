/* The one copy button of the portal. `data-copy="TEXT"` copies that text (a watcher link); `data-copy-from="ID"`
   copies the text of the element with that id (the hand-over's stratum details). The button says "Copied" for a
   moment and, where the page has one, #copy-status announces it to screen readers. A static file: the strict
   Content-Security-Policy forbids inline code. */
(function () {
  "use strict";
  if (window.portalCopy) { return; }  // included by more than one partial on a page: one handler
  window.portalCopy = true;

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
    var button = event.target.closest("[data-copy], [data-copy-from]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    if (text === null) {
      var source = document.getElementById(button.getAttribute("data-copy-from"));
      if (!source) { return; }
      text = source.textContent.trim();
    }
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    copyText(text).then(function () {
      button.textContent = "Copied";
      button.classList.add("copied");
      announce("Copied: " + text.split("\n")[0]);
      window.setTimeout(function () {
        button.textContent = label;
        button.classList.remove("copied");
      }, 2500);
    }, function () {
      announce("The browser did not allow copying: select the text and copy it by hand.");
    });
  });
})();
