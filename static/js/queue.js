// The queue's bulk form: "全选本页" and the count of ticked cases. The checkboxes belong to the bulk
// form through their form="bulk-form" attribute, so without JavaScript ticking still works.
document.addEventListener("DOMContentLoaded", () => {
  const boxes = [...document.querySelectorAll("input[name='cases'][form='bulk-form']")];
  // 全选本页 is in the table's header and in the phone's bottom bar: every one of them works.
  const alls = [...document.querySelectorAll("[data-select-all]")];
  const counts = [...document.querySelectorAll("[data-selected-count]")];
  const refresh = () => {
    const ticked = boxes.filter((box) => box.checked).length;
    counts.forEach((count) => { count.textContent = String(ticked); });
    alls.forEach((all) => {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    });
  };
  boxes.forEach((box) => box.addEventListener("change", refresh));
  alls.forEach((all) => all.addEventListener("change", () => {
    boxes.forEach((box) => { box.checked = all.checked; });
    refresh();
  }));
  refresh();
});
