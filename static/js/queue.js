// The queue's bulk form: "全选本页" and the count of ticked cases. The checkboxes belong to the bulk
// form through their form="bulk-form" attribute, so without JavaScript ticking still works.
document.addEventListener("DOMContentLoaded", () => {
  const boxes = [...document.querySelectorAll("input[name='cases'][form='bulk-form']")];
  const all = document.querySelector("[data-select-all]");
  const count = document.querySelector("[data-selected-count]");
  const refresh = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    if (count) count.textContent = String(ticked);
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  };
  boxes.forEach((box) => box.addEventListener("change", refresh));
  all?.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
    refresh();
  });
  refresh();
});
