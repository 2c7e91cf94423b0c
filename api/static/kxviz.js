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

  // pages served by the app can ask it for more; a standalone file (file:) cannot
  var served = /^https?:$/.test(window.location.protocol);

  // a group drawn now (vis-network's isCluster logs an error for an id it does not know)
  function isGroup(network, id) { return network.body.nodes[id] !== undefined && network.isCluster(id); }
  // an opened group puts its nodes back where they were drawn (not all on the group's spot)
  function openGroup(network, id) {
    network.openCluster(id, {releaseFunction: function (at, inside) { return inside; }});
  }

  function say(status, text) { if (status) status.textContent = text; }

  function showDetails(view, node) {
    var panel = view.panel;
    if (!panel) return;
    panel.replaceChildren();
    panel.appendChild(el("div", node.kind, "kx-kind"));
    panel.appendChild(el("h3", node.name));
    if (node.isGroup) {
      panel.appendChild(el("p", node.detail));
      var open = el("button", "Open the group", "kx-button kx-open-group");
      open.type = "button";
      open.addEventListener("click", function () { openGroup(view.network, node.id); panel.hidden = true; });
      panel.appendChild(open);
      panel.hidden = false;
      return;
    }
    if (node.detail) panel.appendChild(el("p", node.detail));
    var a = el("a", "Open " + node.kind.toLowerCase() + " page");
    a.href = node.url;
    a.className = "kx-open";
    panel.appendChild(a);
    if (served) {
      var around = el("a", "Focus here: what is around it");
      around.href = "/viz/neighbourhood?focus=" + encodeURIComponent(node.id) + "&depth=2";
      around.className = "kx-open kx-focus";
      panel.appendChild(around);
      var more = el("button", "Expand: add what is next to it", "kx-button kx-expand");
      more.type = "button";
      more.addEventListener("click", function () { expand(view, node); });
      panel.appendChild(more);
    }
    panel.hidden = false;
  }

  // expand: the node's neighbours (one step, from the app) added to this picture, beside it
  function expand(view, node) {
    var url = "/viz/neighbourhood?focus=" + encodeURIComponent(node.id) + "&depth=1&format=json";
    say(view.status, "Adding what is next to " + node.name + "…");
    fetch(url, {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error("the app answered " + r.status);
      return r.json();
    }).then(function (more) {
      var at = view.network.getPositions([node.id])[node.id] || {x: 0, y: 0};
      var layered = view.nodes.get({filter: function (n) { return n.level !== undefined; }}).length > 0;
      var known = {};
      view.edges.get().forEach(function (e) { known[e.from + "\u0000" + e.to + "\u0000" + (e.label || "")] = true; });
      var added = more.nodes.filter(function (n) { return view.nodes.get(n.id) === null; });
      added.forEach(function (n, i) {
        var angle = 2 * Math.PI * i / Math.max(1, added.length);
        n.x = at.x + 160 * Math.cos(angle);
        n.y = at.y + 160 * Math.sin(angle);
        delete n.size;
        if (layered) n.level = (node.level || 0) + 1;
      });
      view.nodes.add(added);
      var links = more.edges.filter(function (e) {
        var key = e.from + "\u0000" + e.to + "\u0000" + (e.label || "");
        if (known[key]) return false;
        known[key] = true;
        return true;
      });
      view.edges.add(links);
      say(view.status, "Added " + added.length + " node" + (added.length === 1 ? "" : "s") + " and " +
          links.length + " link" + (links.length === 1 ? "" : "s") + " next to “" + node.name + "”.");
      view.container.setAttribute("data-expanded", String(added.length));
    }).catch(function (err) { say(view.status, "Could not expand " + node.name + ": " + err.message); });
  }

  // groups: past a few hundred nodes, nodes of one kind with the same links are drawn as one
  // (vis-network's clusters); a double-click or "Open the group" opens one, the box opens all
  function wireGroups(view, groups, box) {
    function close() {
      groups.forEach(function (g) {
        var id = "group:" + g.id;
        if (isGroup(view.network, id)) return;
        view.groupNodes[id] = {id: id, name: g.label, kind: g.kind, isGroup: true,
                               detail: g.count + " with the same links, e.g. " + g.names.join("; ") + ". Open the group to see each."};
        view.network.cluster({
          joinCondition: function (n) { return n.kxGroup === g.id; },
          clusterNodeProperties: {
            id: id, label: g.label, name: g.label, kind: g.kind, isGroup: true, shape: g.shape,
            color: g.color, font: g.font, borderWidth: 3, level: g.level,
            title: g.label + " with the same links (double-click to open)"
          }
        });
      });
    }
    function open() {
      groups.forEach(function (g) { if (isGroup(view.network, "group:" + g.id)) openGroup(view.network, "group:" + g.id); });
    }
    if (!groups || !groups.length) { if (box) box.closest("p").hidden = true; return; }
    if (box) box.addEventListener("change", function () {
      if (box.checked) close(); else open();
      view.network.fit({animation: false});
    });
    close();
  }

  // SVG: the picture as drawn now (positions, shapes, colours, labels), built as XML, not as text
  var SVG = "http://www.w3.org/2000/svg";
  function svgOf(view, labels) {
    var network = view.network, body = network.body;
    var svg = document.createElementNS(SVG, "svg");
    var ids = body.nodeIndices.filter(function (id) { return !body.nodes[id].options.hidden; });
    var left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    var boxes = {};
    ids.forEach(function (id) {
      var b = network.getBoundingBox(id);
      boxes[id] = b;
      left = Math.min(left, b.left); top = Math.min(top, b.top);
      right = Math.max(right, b.right); bottom = Math.max(bottom, b.bottom);
    });
    if (!ids.length) { left = top = 0; right = bottom = 100; }
    var pad = 20;
    svg.setAttribute("xmlns", SVG);
    svg.setAttribute("viewBox", [left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad].join(" "));
    svg.setAttribute("width", String(Math.round(right - left + 2 * pad)));
    svg.setAttribute("height", String(Math.round(bottom - top + 2 * pad)));
    svg.setAttribute("font-family", "system-ui, sans-serif");
    var title = document.createElementNS(SVG, "title");
    title.textContent = view.title || "kxgraph picture";
    svg.appendChild(title);
    function add(parent, tag, attrs, text) {
      var e = document.createElementNS(SVG, tag);
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
      if (text !== undefined) e.textContent = String(text);
      parent.appendChild(e);
      return e;
    }
    var shown = {};
    ids.forEach(function (id) { shown[id] = true; });
    body.edgeIndices.forEach(function (id) {
      var e = body.edges[id];
      if (!e || e.options.hidden || !shown[e.fromId] || !shown[e.toId]) return;
      var a = body.nodes[e.fromId], b = body.nodes[e.toId];
      var g = add(svg, "g", {"class": "edge"});
      var line = add(g, "line", {x1: a.x, y1: a.y, x2: b.x, y2: b.y, stroke: e.options.color.color || "#848484",
                                 "stroke-width": e.options.width || 1});
      if (e.options.dashes) line.setAttribute("stroke-dasharray", "6 4");
      if (labels && e.options.label) {
        add(g, "text", {x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, "font-size": 10, "text-anchor": "middle",
                        fill: "#1f2933"}, e.options.label);
      }
    });
    ids.forEach(function (id) {
      var n = body.nodes[id], o = n.options, b = boxes[id];
      var fill = (o.color && o.color.background) || "#97c2fc", stroke = (o.color && o.color.border) || "#2b7ce9";
      var g = add(svg, "g", {"class": "node", "data-id": id});
      var inside = ["box", "database", "ellipse", "circle", "text"].indexOf(o.shape) >= 0;
      var size = o.size || 25, label = o.label || "";
      if (o.shape === "ellipse" || o.shape === "circle") {
        add(g, "ellipse", {cx: n.x, cy: n.y, rx: (b.right - b.left) / 2, ry: (b.bottom - b.top) / 2, fill: fill, stroke: stroke});
      } else if (inside) {
        add(g, "rect", {x: b.left, y: b.top, width: b.right - b.left, height: b.bottom - b.top, rx: 4, fill: fill, stroke: stroke});
      } else if (o.shape === "dot") {
        add(g, "circle", {cx: n.x, cy: n.y, r: size / 2, fill: fill, stroke: stroke});
      } else {
        var k = size / 2, pts = {
          square: [[-k, -k], [k, -k], [k, k], [-k, k]],
          diamond: [[0, -k], [k, 0], [0, k], [-k, 0]],
          triangle: [[0, -k], [k, k], [-k, k]],
          triangleDown: [[-k, -k], [k, -k], [0, k]],
          star: [[0, -k], [k * 0.3, -k * 0.3], [k, -k * 0.3], [k * 0.4, k * 0.2], [k * 0.6, k], [0, k * 0.5],
                 [-k * 0.6, k], [-k * 0.4, k * 0.2], [-k, -k * 0.3], [-k * 0.3, -k * 0.3]]
        }[o.shape] || [[-k, -k], [k, -k], [k, k], [-k, k]];
        add(g, "polygon", {points: pts.map(function (p) { return (n.x + p[0]) + "," + (n.y + p[1]); }).join(" "),
                           fill: fill, stroke: stroke});
      }
      var lines = String(label).split("\n");
      var y0 = inside ? n.y - (lines.length - 1) * 7 + 4 : n.y + size / 2 + 14;
      lines.forEach(function (text, i) {
        add(g, "text", {x: n.x, y: y0 + 14 * i, "font-size": 13, "text-anchor": "middle",
                        fill: (o.font && o.font.color) || "#1f2933"}, text);
      });
    });
    return new XMLSerializer().serializeToString(svg);
  }

  function fileName(title, ext) {
    return (title || "picture").replace(/[^A-Za-z0-9 _-]+/g, "").trim().replace(/ +/g, "-") + "." + ext;
  }

  function download(href, name) {
    var a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function wireSvg(button, view, labelsBox) {
    if (!button) return;
    button.addEventListener("click", function () {
      var text = svgOf(view, labelsBox ? labelsBox.checked : true);
      var url = URL.createObjectURL(new Blob([text], {type: "image/svg+xml"}));
      download(url, fileName(view.title, "svg"));
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
  }

  // a legend entry is a button: it hides or shows every node of its kind
  function drawLegend(box, legend, view) {
    var nodes = view.nodes;
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
        (view.groups || []).forEach(function (g) {  // a group of the kind goes and comes with it
          var id = "group:" + g.id;
          if (g.kind === item.kind && isGroup(view.network, id)) view.network.clustering.updateClusteredNode(id, {hidden: shown});
        });
      });
      li.appendChild(button);
      box.appendChild(li);
    });
  }

  // find: the first node whose name holds the words typed, selected and brought into view
  function wireFind(input, view) {
    var network = view.network, nodes = view.nodes;
    if (!input) return;
    var last = null;  // "change" follows Enter when the box loses focus: the same words are not found twice
    function find() {
      var wanted = input.value.trim().toLowerCase();
      if (wanted === last) return;
      last = wanted;
      if (!wanted) { network.unselectAll(); return; }
      var hits = nodes.get({filter: function (n) { return !n.hidden && String(n.name).toLowerCase().indexOf(wanted) >= 0; }});
      input.setAttribute("aria-invalid", hits.length ? "false" : "true");
      if (!hits.length) return;
      hits.forEach(function (n) {  // a node inside a group: the group opens
        var path = network.findNode(n.id);
        if (path.length > 1) openGroup(network, path[0]);
      });
      network.selectNodes(hits.map(function (n) { return n.id; }));
      network.focus(hits[0].id, {scale: 1.2, animation: false});
      showDetails(view, hits[0]);
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
      if (canvas) download(canvas.toDataURL("image/png"), fileName(title, "png"));
    });
  }

  // A phone is too narrow for a whole picture of more than a few nodes with readable labels: it
  // starts at its focus, at the labels' own size, and says how to see the rest
  var READABLE = 1.0;
  function readableOnAPhone(view, data) {
    var network = view.network, focus = data.focus;
    if (view.container.clientWidth >= 600 || !focus || !view.nodes.get(focus)) return;
    if (network.getScale() >= READABLE * 0.8) return;
    var at = network.getPositions([focus])[focus];
    if (!at) return;
    network.moveTo({position: at, scale: READABLE, animation: false});
    var note = el("p", "Zoomed in on " + view.nodes.get(focus).name + " so that labels can be read: drag to move, " +
                  "pinch to zoom, or ", "kx-zoom-note");
    var all = el("button", "show the whole picture", "kx-link-button");
    all.type = "button";
    all.addEventListener("click", function () { network.fit({animation: false}); note.remove(); });
    note.appendChild(all);
    note.appendChild(document.createTextNode(". The table below lists every node and link."));
    view.container.parentNode.insertBefore(note, view.container);
  }

  function draw(container) {
    var source = document.getElementById(container.getAttribute("data-kxviz"));
    var data = JSON.parse(source.textContent);
    var nodes = new vis.DataSet(data.nodes);
    var edges = new vis.DataSet(data.edges);
    var started = performance.now();
    var network = new vis.Network(container, { nodes: nodes, edges: edges }, data.options);
    function part(name) { return document.getElementById(container.getAttribute("data-" + name)); }
    var view = {network: network, nodes: nodes, edges: edges, container: container, title: data.title,
                panel: part("details"), status: part("status"), groups: data.groups || [], groupNodes: {}};
    drawLegend(part("legend"), data.legend, view);
    wireFind(part("find"), view);
    wirePng(part("png"), container, data.title);
    wireSvg(part("svg"), view, part("labels"));
    wireLabels(part("labels"), network);
    wireGroups(view, data.groups, part("group"));
    function nodeAt(id) {
      if (isGroup(network, id)) return view.groupNodes[id];
      return nodes.get(id);
    }
    network.on("click", function (p) {
      if (p.nodes.length) showDetails(view, nodeAt(p.nodes[0]));
    });
    network.on("doubleClick", function (p) {
      if (!p.nodes.length) return;
      if (isGroup(network, p.nodes[0])) openGroup(network, p.nodes[0]);
      else window.location.href = nodes.get(p.nodes[0]).url;
    });
    network.once("afterDrawing", function () {
      readableOnAPhone(view, data);
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
