// Policy needs filed per month by the largest groups of alike needs, from the JSON the page embeds.
(function () {
  var el = document.getElementById("needs-chart");
  var data = document.getElementById("needs-trend");
  if (!el || !data || !window.echarts) return;
  var trend = JSON.parse(data.textContent);
  var plot = window.echarts.init(el);
  plot.setOption({
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", data: trend.series.map(function (s) { return s.name; }) },
    xAxis: { type: "category", data: trend.months },
    yAxis: { type: "value", minInterval: 1 },
    series: trend.series.map(function (s) {
      return { name: s.name, type: "bar", stack: "needs", data: s.data };
    }),
  });
  el.setAttribute("data-rendered", "1");
  window.addEventListener("resize", function () { plot.resize(); });
})();
