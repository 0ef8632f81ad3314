// Charts of the backlog board. The data comes from a json_script element, never from inline
// script, so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";
  var palette = ["#1565c0", "#ef6c00", "#6a1b9a", "#2e7d32", "#c62828"];

  function dataFor(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source) { return null; }
    var all = JSON.parse(source.textContent);
    return all[canvas.dataset.key] || null;
  }

  function draw(canvas) {
    var data = dataFor(canvas);
    if (!data || typeof window.Chart === "undefined") { return; }
    var config;
    if (canvas.dataset.chart === "line") {
      config = {
        type: "line",
        data: {
          labels: data.labels,
          datasets: [{ label: data.label, data: data.values, borderColor: palette[0],
                       backgroundColor: palette[0], tension: 0.2, pointRadius: 2 }]
        },
        options: { animation: false, maintainAspectRatio: false,
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      };
    } else {
      config = {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (set, i) {
            return { label: set.label, data: set.data, backgroundColor: palette[i % palette.length] };
          })
        },
        options: { animation: false, maintainAspectRatio: false,
                   scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
      };
    }
    new window.Chart(canvas, config);
  }

  function init() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) { draw(canvases[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
