// vmup report: the filter box, expand/collapse, and the counts shown per run. Plain JS,
// no libraries; the page reads fine without it. Work per keystroke is one pass over the
// hosts. Errors are written into the page (#js-errors) so a test can see them.
(function () {
  "use strict";
  var root = document.documentElement;
  function fail(message) {
    var box = document.getElementById("js-errors");
    if (!box) {
      box = document.createElement("pre");
      box.id = "js-errors";
      box.className = "error";
      document.body.insertBefore(box, document.body.firstChild);
    }
    box.textContent += "JavaScript error: " + message + "\n";
    root.setAttribute("data-js", "error");
  }
  window.addEventListener("error", function (e) { fail(String(e.message)); });

  var filter = document.getElementById("filter");
  var runs = Array.prototype.slice.call(document.querySelectorAll("section.run"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  var kernels = Array.prototype.slice.call(document.querySelectorAll("tr.kernel"));
  var status = document.getElementById("js-status");

  function matches(el, q) {
    if (!q) { return true; }
    var name = (el.getAttribute("data-host") || "").toLowerCase();
    return name.indexOf(q) !== -1 || el.getAttribute("data-status") === q;
  }

  function refresh() {
    var q = filter.value.trim().toLowerCase().replace(/ /g, "_");
    var shown = 0, total = 0;
    groups.forEach(function (group) {
      var n = 0;
      var hosts = group.querySelectorAll("li.host");
      for (var i = 0; i < hosts.length; i++) {
        var ok = matches(hosts[i], q);
        hosts[i].hidden = !ok;
        if (ok) { n++; }
      }
      group.hidden = n === 0;
      if (q) { group.open = n > 0; }
      group.querySelector(".n-shown").textContent = String(n);
    });
    runs.forEach(function (run) {
      var counts = { hosts: 0 };
      var hosts = run.querySelectorAll("li.host");
      for (var i = 0; i < hosts.length; i++) {
        total++;
        if (hosts[i].hidden) { continue; }
        var s = hosts[i].getAttribute("data-status");
        counts[s] = (counts[s] || 0) + 1;
        counts.hosts++;
        shown++;
      }
      var agrees = true;
      run.querySelectorAll("td.shown").forEach(function (cell) {
        var s = cell.getAttribute("data-status");
        cell.textContent = String(counts[s] || 0);
        var said = run.querySelector("td.summary-count[data-status='" + s + "']");
        if (said && said.textContent !== cell.textContent) { agrees = false; }
      });
      run.querySelector("table.summary").setAttribute("data-agrees", q ? "filtered" : String(agrees));
    });
    kernels.forEach(function (row) { row.hidden = !matches(row, q); });
    status.textContent = q ? "Showing " + shown + " of " + total + " host(s)." : total + " host(s).";
    root.setAttribute("data-js", root.getAttribute("data-js") === "error" ? "error" : "ready");
  }

  function openAll(open) { groups.forEach(function (g) { g.open = open; }); }
  filter.addEventListener("input", refresh);
  document.getElementById("open-all").addEventListener("click", function () { openAll(true); });
  document.getElementById("close-all").addEventListener("click", function () { openAll(false); });
  // A printed page shows every group's content, not only the headings.
  window.addEventListener("beforeprint", function () { openAll(true); });
  refresh();
})();
