// The brief's "Print or save as PDF" button (a script file: the pages forbid inline script).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var b = document.getElementById("kx-print");
    if (b) b.addEventListener("click", function () { window.print(); });
  });
})();
