// "添加成员" on the registration page: clone the formset's empty form and bump TOTAL_FORMS.
// Without JavaScript the page still offers two member rows and members can be added later.
document.addEventListener("DOMContentLoaded", () => {
  const list = document.querySelector("[data-member-list]");
  const template = document.getElementById("member-template");
  const total = document.getElementById("id_members-TOTAL_FORMS");
  const max = document.getElementById("id_members-MAX_NUM_FORMS");
  const button = document.querySelector("[data-add-member]");
  if (!list || !template || !total || !button) return;

  const refresh = () => {
    button.disabled = max && Number(total.value) >= Number(max.value);
  };
  button.hidden = false;
  refresh();
  button.addEventListener("click", () => {
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", String(index)).replaceAll("__number__", String(index + 1));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    refresh();
    const added = list.lastElementChild;
    added.scrollIntoView({ behavior: "smooth", block: "start" });
    added.querySelector("input:not([type=hidden]), select")?.focus({ preventScroll: true });
  });
});
