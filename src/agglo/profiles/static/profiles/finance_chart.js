// Revenue, net profit and R&D expense by year, in 10k yuan, from the JSON the page embeds.
(function () {
  var el = document.getElementById("finance-chart");
  var data = document.getElementById("finance-data");
  if (!el || !data || !window.echarts) return;
  var chart = JSON.parse(data.textContent);
  var names = Object.keys(chart.series);
  var plot = window.echarts.init(el);
  plot.setOption({
    tooltip: { trigger: "axis" },
    legend: { data: names.map(function (n) { return chart.labels[n]; }) },
    xAxis: { type: "category", data: chart.years },
    yAxis: { type: "value" },
    series: names.map(function (n) {
      return {
        name: chart.labels[n],
        type: n === "revenue" ? "bar" : "line",
        // a year without the figure is a gap (null), not a reported zero
        data: chart.series[n].map(function (v) { return v === null ? null : Math.round(v / 100) / 100; }),
      };
    }),
  });
  window.addEventListener("resize", function () { plot.resize(); });
})();
