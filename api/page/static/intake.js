// Intake: every unfinished job in the list follows its progress (GET /jobs/{id}); the upload form
// posts files to POST /documents/files and adds the new job to the top of the list.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("jobs");
  const POLL_MS = 1000;

  function field(row, name) { return row.querySelector(`[data-field="${name}"]`); }

  // Fill a row from GET /jobs/{id}'s JSON (api.schemas.JobOut).
  function show(row, job) {
    const finished = job.queued <= 0;
    row.dataset.job = job.job;
    row.dataset.finished = finished ? "1" : "0";
    field(row, "job").textContent = job.job;
    field(row, "submitted_by").textContent = job.submitted_by || "command line";
    const state = document.createElement("span");
    state.className = "state " + job.state.replace(/ /g, "-");
    state.textContent = job.state;
    field(row, "state").replaceChildren(state);
    const progress = field(row, "progress");
    progress.max = job.documents;
    progress.value = job.done + job.failed;
    field(row, "counts").textContent = `${job.done} of ${job.documents} stored`;
    field(row, "failed").textContent = job.failed;
    const speed = [];
    if (job.rate) speed.push(`${job.rate.toFixed(1)}/s`);
    if (!finished && job.eta_seconds) speed.push(`about ${Math.round(job.eta_seconds)} s left`);
    field(row, "speed").textContent = speed.join(" · ");
    const failures = Object.entries(job.failures || {});
    const notTagged = job.not_tagged || [];
    const cell = field(row, "failures");
    cell.replaceChildren();
    if (failures.length || notTagged.length) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = `${failures.length} failed` + (notTagged.length ? `, ${notTagged.length} not tagged` : "");
      const list = document.createElement("ul");
      for (const [id, reason] of failures) list.append(item(id, `: ${reason}`));
      for (const report of notTagged) list.append(item(report.id, ` ${report.title || ""}: not tagged, ${report.reason}`));
      details.append(summary, list);
      cell.append(details);
    }
  }

  function item(id, text) {
    const li = document.createElement("li");
    const code = document.createElement("code");
    code.textContent = id;
    li.append(code, text);
    return li;
  }

  async function follow(row) {
    while (row.dataset.finished !== "1") {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        show(row, await kunlun.api("GET", `/jobs/${encodeURIComponent(row.dataset.job)}`));
      } catch (error) {
        kunlun.flash(`Job ${row.dataset.job}: ${error.message}`, true);
        return;
      }
    }
  }

  table.querySelectorAll("tr.job[data-finished='0']").forEach(follow);

  const form = document.getElementById("upload-form");
  if (!form) return; // not the intake role
  const result = document.getElementById("upload-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    result.textContent = "Uploading…";
    try {
      const accepted = await kunlun.api("POST", "/documents/files", new FormData(form));
      const refused = Object.entries(accepted.refused || {});
      result.textContent = `Job ${accepted.job}: ${accepted.documents} document${accepted.documents === 1 ? "" : "s"} queued.`
        + (refused.length ? ` Not read: ${refused.map(([file, why]) => `${file} (${why})`).join("; ")}.` : "");
      const row = document.getElementById("job-row").content.firstElementChild.cloneNode(true);
      show(row, { job: accepted.job, state: "queued", documents: accepted.documents, queued: accepted.documents, done: 0,
                  failed: 0, failures: {}, not_tagged: [], rate: null, eta_seconds: null, submitted_by: null });
      field(row, "submitted_by").textContent = "you";
      table.querySelector("tr.empty")?.remove();
      table.tBodies[0].prepend(row);
      form.reset();
      follow(row);
    } catch (error) {
      result.textContent = "";
      kunlun.flash(`Upload refused: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  });
});
