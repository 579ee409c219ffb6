// "添加一行" for the row lists of the case pages (verifiers, appraisal participants): clone the row
// <template id="PREFIX-template">, put the row number in for __prefix__, bump PREFIX-TOTAL_FORMS.
// Without JavaScript the page still offers its initial rows.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-rows]").forEach((list) => {
    const prefix = list.dataset.rows;
    const template = document.getElementById(`${prefix}-template`);
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const max = document.getElementById(`id_${prefix}-MAX_NUM_FORMS`);
    const button = document.querySelector(`[data-add-row="${prefix}"]`);
    const counter = document.querySelector(`[data-row-count="${prefix}"]`);
    if (!template || !total || !button) return;

    const refresh = () => {
      button.disabled = Boolean(max) && Number(total.value) >= Number(max.value);
      if (counter) {
        const named = [...list.querySelectorAll("input[name$='-name']")].filter((input) => input.value.trim());
        counter.textContent = String(named.length);
      }
    };
    button.hidden = false;
    refresh();
    list.addEventListener("input", refresh);
    button.addEventListener("click", () => {
      const index = Number(total.value);
      const html = template.innerHTML.replaceAll("__prefix__", String(index)).replaceAll("__number__", String(index + 1));
      list.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      refresh();
      list.lastElementChild.querySelector("input")?.focus();
    });
  });
});
