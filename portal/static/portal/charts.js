/* Draws every [data-chart] element from the JSON the server put in the page (json_script), with uPlot.
   Runs on load and after every htmx swap. Values are display-only: every figure that counts is computed on the
   server, exactly. */
(function () {
  "use strict";
  var charts = [];
  window.portalCharts = charts;
  var UNITS = [["EH/s", 1e18], ["PH/s", 1e15], ["TH/s", 1e12], ["GH/s", 1e9], ["MH/s", 1e6], ["kH/s", 1e3]];
  var PALETTE = ["#0b6bcb", "#c2410c", "#15803d", "#7e22ce", "#be123c", "#0f766e", "#a16207", "#4338ca"];
  // Lines that stand out on the dark surface (dark mode), in the same order, so a series keeps its hue.
  var PALETTE_DARK = ["#6cb6ff", "#fb923c", "#4ade80", "#c084fc", "#fb7185", "#2dd4bf", "#facc15", "#a5b4fc"];

  // The theme's colours (portal.css custom properties), read when a chart is drawn: axes, grid and the "no data"
  // band follow light or dark mode, and every chart is drawn again when the reader switches theme.
  function themeColour(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function isDark() {
    return themeColour("color-scheme", "light").indexOf("dark") !== -1;
  }

  function axis(extra) {
    var a = { stroke: themeColour("--muted", "#5b6570"), grid: { stroke: themeColour("--line", "#d8dee4"), width: 1 },
              ticks: { stroke: themeColour("--line", "#d8dee4"), width: 1 } };
    Object.keys(extra || {}).forEach(function (k) { a[k] = extra[k]; });
    return a;
  }

  function fmtHs(v) {
    if (v == null) return "–";
    for (var i = 0; i < UNITS.length; i++) {
      if (Math.abs(v) >= UNITS[i][1]) return (v / UNITS[i][1]).toFixed(2) + " " + UNITS[i][0];
    }
    return v.toFixed(2) + " H/s";
  }

  // Times on the axis and in the legend are in the reader's own zone (data-tz, set from their preference), not
  // the browser's: the same chart reads the same on every machine, and matches the times in the page's tables.
  function tzDateFor(el) {
    var tz = el.getAttribute("data-tz");
    if (!tz || !uPlot.tzDate) return function (ts) { return new Date(ts * 1e3); };
    try {
      uPlot.tzDate(new Date(0), tz);
    } catch (e) {
      return function (ts) { return new Date(ts * 1e3); };
    }
    return function (ts) { return uPlot.tzDate(new Date(ts * 1e3), tz); };
  }

  // Shades each run of missing slots the server listed (data.gaps: [after, before] in unix seconds). The server
  // put a null at every missing slot, so uPlot already breaks the line there (spanGaps: false); the band says
  // "no data" so a gap is not read as a fall to zero.
  function gapBands(gaps) {
    return {
      hooks: {
        drawClear: [function (u) {
          if (!gaps || !gaps.length) return;
          var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
          ctx.save();
          ctx.fillStyle = themeColour("--gap-band", "rgba(91, 101, 112, 0.16)");
          gaps.forEach(function (g) {
            var x0 = Math.max(u.bbox.left, u.valToPos(g[0], "x", true));
            var x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(g[1], "x", true));
            if (x1 > x0) ctx.fillRect(x0, top, x1 - x0, height);
          });
          ctx.restore();
        }],
      },
    };
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) return;
    var data = JSON.parse(source.textContent);
    if (!data.times.length) { el.setAttribute("data-drawn", "0"); return; }
    var palette = isDark() ? PALETTE_DARK : PALETTE;
    var series = [{}].concat(data.series.map(function (s, i) {
      return { label: s.label, stroke: palette[i % palette.length], width: 2, spanGaps: false,
               value: function (u, v) { return fmtHs(v); } };
    }));
    var opts = {
      width: Math.max(280, el.clientWidth || 600),
      height: window.innerWidth < 600 ? 200 : 260,
      series: series,
      scales: { x: { time: true } },
      tzDate: tzDateFor(el),
      axes: [axis(), axis({ size: 96, values: function (u, vals) { return vals.map(fmtHs); } })],
      legend: { live: true },
      plugins: [gapBands(data.gaps)],
    };
    el.innerHTML = "";
    var plot = new uPlot(opts, [data.times].concat(data.series.map(function (s) { return s.values; })), el);
    el.setAttribute("data-drawn", String(data.times.length));
    el.setAttribute("data-gaps", String((data.gaps || []).length));
    charts.push(plot);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]:not([data-drawn])"), draw);
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
  document.addEventListener("portal:theme", function () {
    charts.splice(0).forEach(function (u) {
      var el = u.root.parentNode;
      u.destroy();
      if (el) el.removeAttribute("data-drawn");
    });
    if (document.readyState !== "loading") init();
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (u) {
      var el = u.root.parentNode;
      if (el && el.isConnected) u.setSize({ width: Math.max(280, el.clientWidth), height: u.height });
    });
  });
})();
