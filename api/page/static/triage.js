// Triage: j/k move through the queue (kunlun.navigate); a trainer marks the current report reviewed
// with r (or its button), sending the note typed in its box; the report then leaves the list.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("triage-list");
  if (!list) return;
  const nav = kunlun.navigate(list);
  const items = () => [...list.querySelectorAll("[data-nav-item]")];
  const count = document.getElementById("queue-count");

  // Focus reaching a report by Tab or a click makes it the current one, so j/k go on from there.
  list.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-nav-item]")) nav.select(items().indexOf(event.target));
  });
  list.addEventListener("click", (event) => {
    const item = event.target.closest("[data-nav-item]");
    if (item && !event.target.closest("a, button, textarea")) nav.select(items().indexOf(item));
  });
  nav.select(0);
  if (!list.querySelector(".mark-reviewed")) return; // a reader: no review controls

  async function markReviewed(item) {
    if (item.dataset.busy) return;
    item.dataset.busy = "1";
    const box = item.querySelector(".review-note");
    const note = box.value.trim();
    const title = item.querySelector("h2").textContent.trim();
    try {
      await kunlun.api("POST", `/documents/${encodeURIComponent(item.dataset.id)}/review`, note ? { note } : {});
      kunlun.flash(`Reviewed: ${title}${note ? " (with a note)" : ""}`);
    } catch (error) {
      if (error.status !== 409) { // 409: someone reviewed it first; it leaves the queue all the same
        delete item.dataset.busy;
        kunlun.flash(`Not marked reviewed: ${error.message}`, true);
        return;
      }
      kunlun.flash(error.message, true);
    }
    const index = items().indexOf(item);
    item.remove();
    if (count) count.textContent = Math.max(0, Number(count.textContent) - 1);
    if (items().length) nav.select(Math.min(index, items().length - 1));
    else document.getElementById("page-done").hidden = false;
  }

  document.addEventListener("keydown", (event) => {
    const box = event.target.closest?.(".review-note");
    if (box) {
      const item = box.closest("[data-nav-item]");
      if (event.key === "Escape") { item.focus(); event.preventDefault(); }
      else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { markReviewed(item); event.preventDefault(); }
      return;
    }
    if (event.target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
    const item = event.target.closest?.("[data-nav-item]") || nav.current();
    if (!item) return;
    if (event.key === "r") { markReviewed(item); event.preventDefault(); }
    else if (event.key === "n") { item.querySelector(".review-note").focus(); event.preventDefault(); }
  });
  list.addEventListener("click", (event) => {
    const button = event.target.closest(".mark-reviewed");
    if (button) markReviewed(button.closest("[data-nav-item]"));
  });
});
