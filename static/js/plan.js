// The plan page's forms sit in <details>: a link to #add-visit (from 走访任务) or #add-measure opens its form.
document.addEventListener("DOMContentLoaded", () => {
  const open = () => {
    const target = location.hash && document.querySelector(`details${CSS.escape(location.hash)}`);
    if (target) {
      target.open = true;
      target.scrollIntoView({ block: "start" });
    }
  };
  open();
  window.addEventListener("hashchange", open);
});
