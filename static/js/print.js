// The print pages' 「打印」 button: opens the browser's print dialog (A4, static/css/print.css).
// A static file because the Content-Security-Policy refuses inline scripts.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
