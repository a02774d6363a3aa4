/* A table that scrolls sideways inside its card (phones, wide statements) must be reachable from the keyboard too,
   or its hidden columns are out of reach without a mouse (WCAG 2.1.1; axe-core's scrollable-region-focusable).
   Only regions that really overflow become tab stops, and they stop being one when the window grows. */
(function () {
  "use strict";
  var SELECTOR = ".table-wrap, .card > table, .card > form > table, main > table";

  function mark() {
    Array.prototype.forEach.call(document.querySelectorAll(SELECTOR), function (el) {
      var scrolls = el.scrollWidth > el.clientWidth + 1;
      if (scrolls && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-scroll-region", "");
      } else if (!scrolls && el.hasAttribute("data-scroll-region")) {
        el.removeAttribute("tabindex");
        el.removeAttribute("data-scroll-region");
      }
    });
  }

  var pending = null;
  document.addEventListener("DOMContentLoaded", mark);
  document.addEventListener("htmx:afterSettle", mark);
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(mark, 100);
  });
})();
