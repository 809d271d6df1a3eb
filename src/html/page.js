// Highlights the field under the pointer (or the keyboard focus) and describes it in the side
// panel. Everything it shows is already in each record's table: without this script the page
// says the same, only less conveniently.
"use strict";
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  var info = document.getElementById("info");
  var current = null;
  function clear() {
    if (!current) return;
    current.span.classList.remove("hl");
    if (current.row) current.row.classList.remove("hl");
    current = null;
  }
  function text(row, i) {
    var cell = row.children[i];
    return cell ? cell.textContent : "";
  }
  function show(span) {
    clear();
    var row = document.getElementById(span.getAttribute("data-row"));
    current = { span: span, row: row };
    span.classList.add("hl");
    if (!row) return;
    row.classList.add("hl");
    info.textContent = "";
    var h = document.createElement("h5");
    h.textContent = text(row, 1);
    var v = document.createElement("p");
    v.className = "val";
    v.textContent = text(row, 2);
    var m = document.createElement("p");
    m.textContent = text(row, 3);
    var dl = document.createElement("dl");
    [["bytes", text(row, 0) + " (" + span.getElementsByTagName("b").length + " bytes)"],
     ["defined in", text(row, 4)]].forEach(function (kv) {
      var dt = document.createElement("dt");
      dt.textContent = kv[0];
      var dd = document.createElement("dd");
      dd.textContent = kv[1];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    info.appendChild(h);
    info.appendChild(v);
    info.appendChild(m);
    info.appendChild(dl);
  }
  function field(e) {
    var t = e.target;
    return t && t.closest ? t.closest(".f") : null;
  }
  document.addEventListener("mouseover", function (e) {
    var f = field(e);
    if (f) show(f);
  });
  document.addEventListener("focusin", function (e) {
    var f = field(e);
    if (f) show(f);
  });
  var spans = document.querySelectorAll(".hex .f");
  var linked = 0;
  for (var i = 0; i < spans.length; i++) {
    if (document.getElementById(spans[i].getAttribute("data-row"))) linked++;
  }
  // For the browser test: how many fields found their description.
  root.setAttribute("data-fields", spans.length + "/" + linked);
})();
