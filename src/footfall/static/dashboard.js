// footfall's dashboard: the few things that need a script. Every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // copy buttons: data-copy="<id of the element whose text to copy>"
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = document.getElementById(button.dataset.copy).textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        window.getSelection().selectAllChildren(document.getElementById(button.dataset.copy));
      }
    });
  }
  // a file input that fills a textarea: data-fills="<textarea id>"
  for (const input of document.querySelectorAll("input[type=file][data-fills]")) {
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) document.getElementById(input.dataset.fills).value = await file.text();
    });
  }
  // pages that refresh themselves: data-refresh="<seconds>"
  const refresh = document.querySelector("[data-refresh]");
  if (refresh) setTimeout(() => window.location.reload(), Number(refresh.dataset.refresh) * 1000);
  // the overview's custom range: picking dates selects "Custom range"
  const period = document.getElementById("period");
  for (const id of ["startAt", "endAt"]) {
    const field = document.getElementById(id);
    if (period && field) field.addEventListener("change", () => { period.value = "custom"; });
  }
});
