// Small enhancements only: every page works without this file.
// After a failed answer, move the focus to the error summary, so screen readers read it first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }
});
