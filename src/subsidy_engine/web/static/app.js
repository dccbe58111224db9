// A little help, nothing the pages need to work: disable a submit button while the server works, and
// submit the town filter on change.
document.addEventListener("submit", (e) => {
  const button = e.target.querySelector("button[data-busy]");
  if (button) {
    setTimeout(() => { button.disabled = true; button.textContent = button.dataset.busy; }, 0);
  }
});
document.addEventListener("change", (e) => {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});
document.addEventListener("click", (e) => {
  if (e.target.matches("button[data-print]")) window.print();
});
