// The run page while its job waits or runs: poll the job's status (JSON) every second and redraw the stages
// with their elapsed time; when the job ends, load the run page (results, or the reason it failed).
(() => {
  const box = document.getElementById("job");
  if (!box) return;
  const url = box.dataset.statusUrl;
  const finished = new Set(["done", "failed", "cancelled"]);
  if (finished.has(box.dataset.status)) return;
  const status = document.getElementById("job-status");
  const body = document.querySelector("#job-stages tbody");
  const error = document.getElementById("job-error");
  const draw = (job) => {
    status.textContent = job.status_text + (job.cancel_requested && !finished.has(job.status) ? "(已请求取消)" : "");
    body.replaceChildren(...job.stages.map((s) => {
      const tr = document.createElement("tr");
      tr.className = s.done ? "done" : "current";
      const name = document.createElement("td");
      name.textContent = s.name;
      const secs = document.createElement("td");
      secs.className = "num";
      secs.textContent = s.seconds.toFixed(1);
      tr.append(name, secs);
      return tr;
    }));
    if (job.error) { error.hidden = false; error.textContent = job.error; }
  };
  const poll = async () => {
    try {
      const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (r.ok) {
        const job = await r.json();
        draw(job);
        if (finished.has(job.status)) { window.location.reload(); return; }
      }
    } catch (e) { /* the server restarts: keep polling */ }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
})();
