// Progressive enhancement only: every page works without this file.
// Move focus to the error summary after a failed form submission, so keyboard and
// screen-reader users land on the list of what to correct.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});
