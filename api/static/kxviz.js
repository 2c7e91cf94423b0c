// Draws kxgraph pictures with vis-network. Data comes from a JSON block (never executed), every
// text goes into the page with textContent: labels and quotes from documents stay plain text.
(function () {
  "use strict";

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function showDetails(panel, node) {
    if (!panel) return;
    panel.replaceChildren();
    panel.appendChild(el("div", node.kind, "kx-kind"));
    panel.appendChild(el("h3", node.name));
    if (node.detail) panel.appendChild(el("p", node.detail));
    var a = el("a", "Open " + node.kind.toLowerCase() + " page");
    a.href = node.url;
    a.className = "kx-open";
    panel.appendChild(a);
    panel.hidden = false;
  }

  function drawLegend(box, legend) {
    if (!box) return;
    box.replaceChildren();
    legend.forEach(function (item) {
      var li = el("li");
      var swatch = el("span", "", "kx-swatch kx-shape-" + item.shape);
      swatch.style.backgroundColor = item.color;
      li.appendChild(swatch);
      li.appendChild(el("span", item.kind));
      box.appendChild(li);
    });
  }

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-kxviz"));
    var data = JSON.parse(source.textContent);
    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var started = performance.now();
    var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);
    var panel = document.getElementById(container.getAttribute("data-details"));
    drawLegend(document.getElementById(container.getAttribute("data-legend")), data.legend);
    network.on("click", function (p) {
      if (p.nodes.length) showDetails(panel, nodes.get(p.nodes[0]));
    });
    network.on("doubleClick", function (p) {
      if (p.nodes.length) window.location.href = nodes.get(p.nodes[0]).url;
    });
    network.once("afterDrawing", function () {
      container.setAttribute("data-drawn-ms", String(Math.round(performance.now() - started)));
    });
    window.kxNetworks = window.kxNetworks || {};
    window.kxNetworks[container.id] = network;
  }

  function start() {
    document.querySelectorAll("[data-kxviz]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
