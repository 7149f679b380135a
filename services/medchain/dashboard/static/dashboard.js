// MedChain dashboard: progressive enhancement only. Every page reads and works without this
// file: charts replace nothing (their tables stay), and live updates add to a page that the
// browser would otherwise reload.
(function () {
  "use strict";
  var COLORS = ["#0d2b45", "#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207"];
  var STATE_COLORS = { permit: "#15803d", deny: "#a16207", revoked: "#b91c1c" };

  function drawCharts(root) {
    if (!window.Chart) { return; }
    document.documentElement.classList.add("charts-ready");
    root.querySelectorAll("figure.chart").forEach(function (figure) {
      var canvas = figure.querySelector("canvas");
      var source = figure.querySelector("script.chart-data");
      if (!canvas || !source) { return; }
      var data = JSON.parse(source.textContent);
      var labels = data.rounds || data.blocks;
      var existing = window.Chart.getChart(canvas);
      if (existing) { existing.destroy(); }
      var datasets = data.series.map(function (series, i) {
        var color = STATE_COLORS[series.name] || COLORS[i % COLORS.length];
        var global = series.name === "global model";
        return {
          label: series.name,
          data: series.values,
          borderColor: color,
          backgroundColor: color,
          borderWidth: global ? 3 : 1.5,
          borderDash: global || data.blocks ? [] : [5, 3],
          pointRadius: global ? 4 : 3,
          stepped: data.blocks ? "before" : false,
          spanGaps: true
        };
      });
      new window.Chart(canvas, {
        type: "line",
        data: { labels: labels, datasets: datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          scales: { x: { title: { display: true, text: data.blocks ? "Block" : "Round" } } },
          plugins: { legend: { position: "bottom" } }
        }
      });
      var table = figure.querySelector("details.chart-table");
      if (table) { table.removeAttribute("open"); }
    });
  }

  function followStudy(live) {
    var eventsUrl = live.getAttribute("data-events");
    var fragmentUrl = live.getAttribute("data-fragment");
    if (!eventsUrl || !window.EventSource) { return; }
    document.documentElement.classList.add("live-ready");
    var source = new EventSource(eventsUrl);
    function shownRounds() {
      var marker = live.querySelector("[data-rounds]");
      return marker ? marker.getAttribute("data-rounds") : null;
    }
    function refresh() {
      if (window.htmx) {
        window.htmx.ajax("GET", fragmentUrl, { target: live, swap: "innerHTML" });
      } else {
        window.location.reload();
      }
    }
    source.addEventListener("hello", function (e) {
      // Something may have been committed between rendering the page and opening the stream.
      if (String(JSON.parse(e.data).rounds) !== String(shownRounds())) { refresh(); }
    });
    source.addEventListener("round", refresh);
    source.addEventListener("end", function () { source.close(); refresh(); });
  }

  function start() {
    drawCharts(document);
    var live = document.getElementById("live");
    if (live) { followStudy(live); }
    document.body.addEventListener("htmx:afterSettle", function (e) { drawCharts(e.target); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
