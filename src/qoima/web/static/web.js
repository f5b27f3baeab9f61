/* qoima dashboard: draw the charts from their JSON specs; stop a second click on a form.
   Everything else is plain HTML, so the pages work without this file (charts aside). */
"use strict";
(function () {
  function draw() {
    var specs = document.querySelectorAll('script[type="application/json"][data-chart]');
    if (!specs.length) { document.body.setAttribute("data-charts", "ready"); return; }
    if (typeof Plotly === "undefined") {
      document.body.setAttribute("data-charts", "unavailable");
      return;
    }
    var drawn = [];
    specs.forEach(function (element) {
      var target = document.getElementById(element.getAttribute("data-chart"));
      var spec = JSON.parse(element.textContent);
      drawn.push(Plotly.newPlot(target, spec.data, spec.layout, spec.config));
    });
    Promise.all(drawn).then(function () {
      document.body.setAttribute("data-charts", "ready");
    });
  }
  function refreshLater() {
    /* a page following a background job (data-refresh-s) reloads until the job ends */
    var seconds = Number(document.body.getAttribute("data-refresh-s"));
    if (seconds > 0) { window.setTimeout(function () { window.location.reload(); }, seconds * 1000); }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("DOMContentLoaded", refreshLater);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("data-sent") === "yes") { event.preventDefault(); return; }
    form.setAttribute("data-sent", "yes");
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.setAttribute("aria-disabled", "true");
      button.classList.add("busy");
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
    });
    document.querySelectorAll("button.busy").forEach(function (button) {
      button.removeAttribute("aria-disabled");
      button.classList.remove("busy");
    });
  });
})();
