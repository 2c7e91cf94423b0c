// The document page: the quote a link led to (#q-START-END) is marked whole, across the pieces
// that overlapping quotes cut it into, and scrolled into view.
(function () {
  "use strict";
  function follow() {
    document.querySelectorAll("mark.kx-followed").forEach(function (m) { m.classList.remove("kx-followed"); });
    var span = decodeURIComponent(window.location.hash.slice(1));
    if (!/^q-\d+-\d+$/.test(span)) { return; }
    var pieces = Array.prototype.filter.call(document.querySelectorAll("mark[data-spans]"), function (m) {
      return m.getAttribute("data-spans").split(" ").indexOf(span) >= 0;
    });
    pieces.forEach(function (m) { m.classList.add("kx-followed"); });
    if (pieces.length) { pieces[0].scrollIntoView({block: "center"}); }
  }
  window.addEventListener("hashchange", follow);
  document.addEventListener("DOMContentLoaded", follow);
})();
