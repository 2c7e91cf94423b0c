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
    var around = el("a", "Focus here: what is around it");
    around.href = "/viz/neighbourhood?focus=" + encodeURIComponent(node.id) + "&depth=2";
    around.className = "kx-open kx-focus";
    panel.appendChild(around);
    panel.hidden = false;
  }

  // a legend entry is a button: it hides or shows every node of its kind
  function drawLegend(box, legend, nodes) {
    if (!box) return;
    box.replaceChildren();
    legend.forEach(function (item) {
      var li = el("li");
      var swatch = el("span", "", "kx-swatch kx-shape-" + item.shape);
      if (item.edge) swatch.style.borderColor = item.color; else swatch.style.backgroundColor = item.color;
      if (item.edge) { li.appendChild(swatch); li.appendChild(el("span", item.kind)); box.appendChild(li); return; }
      var button = el("button", "", "kx-legend-item");
      button.type = "button";
      button.setAttribute("aria-pressed", "true");
      button.setAttribute("data-kind", item.kind);
      button.title = "Hide or show every " + item.kind;
      button.appendChild(swatch);
      button.appendChild(el("span", item.kind));
      button.addEventListener("click", function () {
        var shown = button.getAttribute("aria-pressed") === "true";
        button.setAttribute("aria-pressed", shown ? "false" : "true");
        nodes.update(nodes.get({filter: function (n) { return n.kind === item.kind; }}).map(function (n) {
          return {id: n.id, hidden: shown};
        }));
      });
      li.appendChild(button);
      box.appendChild(li);
    });
  }

  // find: the first node whose name holds the words typed, selected and brought into view
  function wireFind(input, network, nodes, panel) {
    if (!input) return;
    function find() {
      var wanted = input.value.trim().toLowerCase();
      if (!wanted) { network.unselectAll(); return; }
      var hits = nodes.get({filter: function (n) { return !n.hidden && String(n.name).toLowerCase().indexOf(wanted) >= 0; }});
      input.setAttribute("aria-invalid", hits.length ? "false" : "true");
      if (!hits.length) return;
      network.selectNodes(hits.map(function (n) { return n.id; }));
      network.focus(hits[0].id, {scale: 1.2, animation: false});
      showDetails(panel, hits[0]);
    }
    input.addEventListener("change", find);
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); find(); } });
  }

  // link labels on demand: off by default past 60 links, where they turn a picture into a hairball
  function wireLabels(box, network) {
    if (!box) return;
    function apply() { network.setOptions({edges: {font: {size: box.checked ? 10 : 0}}}); }
    box.addEventListener("change", apply);
    apply();
  }

  // the picture as drawn now, as a PNG file (the canvas' own pixels; nothing leaves the machine)
  function wirePng(button, container, title) {
    if (!button) return;
    button.addEventListener("click", function () {
      var canvas = container.querySelector("canvas");
      if (!canvas) return;
      var a = document.createElement("a");
      a.href = canvas.toDataURL("image/png");
      a.download = (title || "picture").replace(/[^A-Za-z0-9 _-]+/g, "").trim().replace(/ +/g, "-") + ".png";
      document.body.appendChild(a);
      a.click();
      a.remove();
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
    drawLegend(document.getElementById(container.getAttribute("data-legend")), data.legend, nodes);
    wireFind(document.getElementById(container.getAttribute("data-find")), network, nodes, panel);
    wirePng(document.getElementById(container.getAttribute("data-png")), container, data.title);
    wireLabels(document.getElementById(container.getAttribute("data-labels")), network);
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
