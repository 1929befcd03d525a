// Models: a trainer's buttons (start a feedback run, promote, roll back) call the JSON API after a
// confirmation and show its refusals; a training run in progress is followed (GET /training).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("training");
  const POLL_MS = 2000;

  function field(name) { return panel.querySelector(`[data-field="${name}"]`); }

  function showTraining(job) {
    panel.dataset.state = job.state;
    if (!field("progress")) return; // the page had no run yet: the reload after it ends shows it
    field("progress").value = job.percent;
    field("percent").textContent = `${Math.round(job.percent)}%`;
    field("state").textContent = job.state;
    field("state").className = `state ${job.state}`;
    field("stage").textContent = job.stage ? `· ${job.stage}` : "";
    field("epoch").textContent = job.epoch ? `· epoch ${job.epoch}` : "";
  }

  async function followTraining() {
    while (["queued", "running"].includes(panel.dataset.state)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      let job;
      try {
        job = await kunlun.api("GET", "/training");
      } catch (error) {
        kunlun.flash(`Training progress: ${error.message}`, true);
        return;
      }
      showTraining(job);
      if (job.state === "done" || job.state === "failed") {
        kunlun.flash(job.state === "done" ? `Training ${job.job} finished${job.version ? `: ${job.version}` : ""}` : `Training ${job.job} failed: ${job.error}`,
                     job.state === "failed");
        setTimeout(() => location.reload(), 1500);
      }
    }
  }
  followTraining();

  // Each button: confirm, call, report; the page reloads to show the new state.
  const actions = {
    async train() {
      if (!confirm("Start a feedback training run? It continues the active version on the corrections and labels, "
                   + "takes minutes, and promotes the new version only if the gate finds it no worse.")) return;
      const job = await kunlun.api("POST", "/training", { mode: "feedback" });
      kunlun.flash(`Training ${job.job} started`);
      panel.dataset.state = job.state;
      if (!field("progress")) setTimeout(() => location.reload(), 800);
      else { showTraining(job); followTraining(); }
    },
    async promote(button) {
      const version = button.dataset.version;
      if (!confirm(`Promote ${version}? The gate first measures it against the active version on the evaluation set `
                   + "(this can take minutes); it becomes active only if it is no worse, and the index is re-tagged.")) return;
      button.textContent = "Measuring…";
      const answer = await kunlun.api("POST", `/models/${encodeURIComponent(version)}/promote`, {});
      kunlun.flash(`${answer.active} is active now${answer.retag?.started ? "; re-tagging the index" : ""}`);
      setTimeout(() => location.reload(), 1500);
    },
    async rollback() {
      if (!confirm("Roll back to the version that was active before the last promotion? It becomes active without the gate, "
                   + "and the index is re-tagged.")) return;
      const answer = await kunlun.api("POST", "/models/rollback", {});
      kunlun.flash(`Rolled back: ${answer.active} is active now`);
      setTimeout(() => location.reload(), 1500);
    },
  };

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button || !actions[button.dataset.action]) return;
    const label = button.textContent;
    button.disabled = true;
    try {
      await actions[button.dataset.action](button);
    } catch (error) {
      kunlun.flash(`Refused: ${error.message}`, true);
    } finally {
      button.disabled = button.dataset.action === "train" && ["queued", "running"].includes(panel.dataset.state);
      button.textContent = label;
    }
  });
});
