// file-search.js: opened from the file system (file://), a browser refuses to start the search
// index's web worker, so the search box would wait forever. Say so where a reader looks: in the
// box and in its result panel. Served (scripts/site.sh serve) this does nothing.
(function () {
  if (window.location.protocol !== "file:") return;
  var note = "Search needs the server: bash scripts/site.sh serve";
  function tell() {
    document.querySelectorAll("input.md-search__input").forEach(function (box) {
      box.placeholder = note;
      box.title = note;
    });
    document.querySelectorAll(".md-search-result__meta").forEach(function (meta) {
      meta.textContent = note;
    });
  }
  tell();
  // The theme writes its own text into the result panel when search starts: say it again.
  document.addEventListener("input", tell, true);
  document.addEventListener("focusin", tell, true);
  window.setTimeout(tell, 500);
})();
