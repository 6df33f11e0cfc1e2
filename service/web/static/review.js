// Small conveniences only; every page works without this file.
(function () {
  "use strict";
  // Filters: a changed select applies at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Queue rows open their bundle.
  var rows = Array.prototype.slice.call(document.querySelectorAll("table.queue tbody tr"));
  rows.forEach(function (row) {
    row.addEventListener("click", function (ev) {
      var tag = ev.target.tagName;
      if (tag !== "A" && tag !== "INPUT" && !ev.target.closest("td.pick")) {
        window.location = row.dataset.href;
      }
    });
  });
  // Bulk decisions: the header box ticks every box of the page; a reason and a box first.
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=bundle][form=bulk]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }
  var bulk = document.getElementById("bulk");
  if (bulk) {
    bulk.addEventListener("submit", function (ev) {
      var reason = bulk.querySelector("textarea[name=reason]");
      if (!reason.value.trim()) { ev.preventDefault(); reason.focus(); }
    });
  }
  // Keyboard: "/" search, j/k move the cursor row, Enter opens it.
  var cursor = -1;
  function mark(i) {
    if (!rows.length) { return; }
    if (cursor >= 0) { rows[cursor].classList.remove("cursor"); }
    cursor = Math.max(0, Math.min(rows.length - 1, i));
    rows[cursor].classList.add("cursor");
    rows[cursor].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") { return; }
    if (ev.key === "/") {
      var search = document.getElementById("search");
      if (search) { ev.preventDefault(); search.focus(); }
    } else if (ev.key === "j") { mark(cursor + 1); }
    else if (ev.key === "k") { mark(cursor - 1); }
    else if (ev.key === "Enter" && cursor >= 0) { window.location = rows[cursor].dataset.href; }
  });
  // A decision needs a reason: say so before the round trip.
  var decide = document.getElementById("decide");
  if (decide) {
    decide.addEventListener("submit", function (ev) {
      var reason = decide.querySelector("textarea[name=reason]");
      if (!reason.value.trim()) { ev.preventDefault(); reason.focus(); }
    });
  }
  // Revocations ask first: they cannot be undone.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm)) { ev.preventDefault(); }
    });
  });
})();
