// Draws the chain map as a left-to-right graph: columns are upstream → downstream depth, gaps in red.
(function () {
  var el = document.getElementById("chain-graph");
  var data = JSON.parse(document.getElementById("chain-data").textContent);
  if (!el || !window.echarts) { return; }
  // room around the nodes for the labels under them (wrapped to LABEL pixels, so a long English name at either
  // side stays inside the box: review 100) and for the edges that bow above the top row
  var LABEL = 150;
  var pad = { top: 50, bottom: 80, left: LABEL / 2 + 10, right: LABEL / 2 + 10 };
  var columns = Math.max.apply(null, data.nodes.map(function (n) { return n.column; }).concat([1]));
  var rows = Math.max.apply(null, data.nodes.map(function (n) { return n.row; }).concat([1]));
  // each row of nodes gets the height of a node and its label of up to three lines
  el.style.height = Math.max(420, pad.top + pad.bottom + rows * 115) + "px";
  var chart = echarts.init(el);

  function draw() {
    // Positions in the box's own pixels: the graph's view then scales x and y alike, so nodes stay round
    // (positions in other units are fitted to the box one axis at a time, which stretches them).
    var width = Math.max(el.clientWidth - pad.left - pad.right, 100);
    var height = Math.max(el.clientHeight - pad.top - pad.bottom, 100);
    var nodes = data.nodes.map(function (n) {
      return {
        id: n.id, name: n.name, x: n.column * width / columns, y: n.row * height / rows, value: n.members,
        symbolSize: n.gap ? 26 : Math.min(60, 24 + Math.sqrt(n.members) * 4),
        itemStyle: { color: n.gap ? "#b42318" : "#0b6e4f" },
        label: { show: true, position: "bottom", width: LABEL, overflow: "break", formatter: n.name + "\n" + n.members }
      };
    });
    chart.setOption({
      // the tooltip is HTML: the name goes in escaped (review 49 F11)
      tooltip: { formatter: function (p) { return p.dataType === "node" ? echarts.format.encodeHTML(p.data.name) + ": " + p.data.value : ""; } },
      series: [{
        type: "graph", layout: "none", roam: true, data: nodes,
        top: pad.top, bottom: pad.bottom, left: pad.left, right: pad.right,
        links: data.links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 8,
        lineStyle: { color: "#9aa5b1", curveness: 0.15 }
      }]
    });
  }
  draw();
  window.addEventListener("resize", function () { chart.resize(); draw(); });
})();
