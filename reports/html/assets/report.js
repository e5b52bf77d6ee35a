// pvjobs report: the time series' readout. The chart and its table work
// without this script; it shows a bar's numbers where hovering is not a
// thing (phones) and from the keyboard. It reads only its own JSON data and
// writes text (textContent), never markup.
(function () {
  "use strict";
  var el = document.getElementById("pvjobs-data");
  var svg = document.querySelector("svg[data-chart=trend]");
  var out = document.getElementById("readout");
  if (!el || !svg || !out) return;
  var t = JSON.parse(el.textContent).trend;
  if (!t) return;
  var bands = svg.querySelectorAll("g.b");
  var cur = -1;
  function fmt(v) { return Math.round(v).toLocaleString("en-US"); }
  function show(i) {
    if (i < 0 || i >= bands.length) return;
    if (cur >= 0) bands[cur].classList.remove("on");
    cur = i;
    bands[i].classList.add("on");
    var s = t.labels[i] + ": " + fmt(t.visitors[i]) + " visitors";
    if (t.pageviews) s += ", " + fmt(t.pageviews[i]) + " page views";
    out.textContent = s;
  }
  function at(e) {
    var g = e.target.closest ? e.target.closest("g.b") : null;
    if (g) show(Number(g.getAttribute("data-i")));
  }
  svg.addEventListener("pointermove", at);
  svg.addEventListener("click", at);
  svg.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") show(cur < 0 ? 0 : cur + 1);
    else if (e.key === "ArrowLeft") show(cur < 0 ? bands.length - 1 : cur - 1);
    else return;
    e.preventDefault();
  });
  out.textContent = "Point at, tap or arrow through the bars for their numbers.";
})();
