// File fields of the case pages: a Chinese "选择文件或拍照" button and the chosen file's name, whatever
// language the browser itself speaks. Without JavaScript the browser's own file field shows instead.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[type=file]").forEach((input) => {
    const wrap = document.createElement("div");
    wrap.className = "file-pick";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    input.classList.add("file-pick__input");

    const button = document.createElement("label");
    button.htmlFor = input.id;
    button.className = "button button--small file-pick__button";
    button.textContent = input.dataset.pickLabel || (input.multiple ? "选择文件（可多选）" : "选择文件或拍照");
    const name = document.createElement("span");
    name.className = "file-pick__name";
    name.textContent = "未选择文件";
    wrap.append(button, name);

    input.addEventListener("change", () => {
      const names = [...input.files].map((file) => file.name);
      name.textContent = names.length ? names.join("、") : "未选择文件";
      wrap.classList.toggle("is-chosen", names.length > 0);
    });
  });
});
