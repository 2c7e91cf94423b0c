// Suggestions as you type in the search box: names from /suggest (same origin), shown as the
// input's datalist. Text goes in as option values, never as markup.
(function () {
  "use strict";
  function wire(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value;
        if (q === asked || q.trim().length < 2) return;
        asked = q;
        fetch(input.getAttribute("data-suggest") + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            if (input.value !== q) return;
            list.replaceChildren();
            items.forEach(function (item) {
              var o = document.createElement("option");
              o.value = item.name;
              o.label = item.kind + " \u00b7 " + item.study;
              list.appendChild(o);
            });
            input.setAttribute("data-suggested", String(items.length));
          })
          .catch(function () {});
      }, 150);
    });
  }
  function start() { document.querySelectorAll("input[data-suggest]").forEach(wire); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
