// Small behaviours shared by every page, attached by data attributes (no inline handlers, so the
// Content-Security-Policy can forbid inline script).
//   <select data-autosubmit>   submits its form when changed
//   <form data-confirm="…">    asks before submitting
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
