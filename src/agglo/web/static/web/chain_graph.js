// Draws the chain map as a left-to-right graph: columns are upstream → downstream depth, gaps in red.
(function () {
  var el = document.getElementById("chain-graph");
  var data = JSON.parse(document.getElementById("chain-data").textContent);
  if (!el || !window.echarts) { return; }
  var chart = echarts.init(el);
  var nodes = data.nodes.map(function (n) {
    return {
      id: n.id, name: n.name, x: n.column * 220, y: n.row * 80, value: n.members,
      symbolSize: n.gap ? 26 : Math.min(60, 24 + Math.sqrt(n.members) * 4),
      itemStyle: { color: n.gap ? "#b42318" : "#0b6e4f" },
      label: { show: true, position: "bottom", formatter: n.name + "\n" + n.members }
    };
  });
  chart.setOption({
    tooltip: { formatter: function (p) { return p.dataType === "node" ? p.data.name + ": " + p.data.value : ""; } },
    series: [{
      type: "graph", layout: "none", roam: true, data: nodes,
      // room around the nodes for the labels under them and the widest names at the sides
      top: 30, bottom: 70, left: 80, right: 80,
      links: data.links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
      lineStyle: { color: "#9aa5b1", curveness: 0.15 }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
