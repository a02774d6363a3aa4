/* Dark mode (issue 21): the page follows the system's light or dark setting unless the reader chose one here.
   Loaded in <head> without defer, so the chosen theme is set before the first paint (no white flash); the choice
   lives in this browser only (localStorage), like the system setting it overrides. The toggle cycles
   system → dark → light and says which is in force. */
(function () {
  "use strict";
  var KEY = "portal-theme";
  var LABELS = { "": "Theme: system", dark: "Theme: dark", light: "Theme: light" };
  var NEXT = { "": "dark", dark: "light", light: "" };

  function stored() {
    try {
      var v = window.localStorage.getItem(KEY) || "";
      return v === "dark" || v === "light" ? v : "";
    } catch (e) {
      return "";
    }
  }

  function apply(theme) {
    if (theme) document.documentElement.setAttribute("data-theme", theme);
    else document.documentElement.removeAttribute("data-theme");
    document.dispatchEvent(new CustomEvent("portal:theme", { detail: { theme: theme } }));
  }

  function label(button, theme) {
    button.textContent = LABELS[theme];
    button.setAttribute("aria-label", LABELS[theme] + " (change)");
  }

  apply(stored());
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-theme-toggle]"), function (button) {
      label(button, stored());
      button.hidden = false;
      button.addEventListener("click", function () {
        var theme = NEXT[stored()];
        try {
          if (theme) window.localStorage.setItem(KEY, theme);
          else window.localStorage.removeItem(KEY);
        } catch (e) { /* private mode: the choice lasts for this page only */ }
        apply(theme);
        label(button, theme);
      });
    });
  });
})();
