// Document: the legend's checkboxes toggle each entity type's colour and each domain's evidence.
// For a trainer, corrections in place: domains and sub-types (one form), select words → a label,
// click an entity → another label or remove it. Each is POSTed to the JSON API's
// /documents/{id}/corrections, then the page reloads to show the document as now stored.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const article = document.getElementById("document");
  const text = document.getElementById("doc-text");
  document.querySelectorAll("[data-toggle-label]").forEach((box) => box.addEventListener("change", () => {
    text.classList.toggle("hide-" + box.dataset.toggleLabel, !box.checked);
  }));
  document.querySelectorAll("[data-toggle-evidence]").forEach((box) => box.addEventListener("change", () => {
    text.classList.toggle("show-ev-" + box.dataset.toggleEvidence, box.checked);
  }));

  const saved = sessionStorage.getItem("kunlun-saved");  // said after the reload that shows it
  if (saved) {
    sessionStorage.removeItem("kunlun-saved");
    kunlun.flash(saved);
    document.getElementById("next-document")?.focus();
  }

  const menu = document.getElementById("label-menu");
  if (!menu) return;  // a reader: no edit controls
  const url = `/documents/${encodeURIComponent(article.dataset.docId)}/corrections`;

  async function correct(body, said) {
    try {
      await kunlun.api("POST", url, body);
      sessionStorage.setItem("kunlun-saved", said);
      location.reload();
    } catch (error) {
      kunlun.flash(`Not saved: ${error.message}`, true);
    }
  }

  // Domains and sub-types: a sub-type counts only under a domain ticked.
  const form = document.getElementById("correct-domains");
  const ticked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)];
  function syncSubtypes() {
    const domains = ticked("domain").map((box) => box.value);
    form.querySelectorAll("input[name=subtype]").forEach((box) => { box.disabled = !domains.includes(box.dataset.domain); });
  }
  form.addEventListener("change", syncSubtypes);
  syncSubtypes();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const domains = ticked("domain").map((box) => box.value);
    const subtypes = ticked("subtype").filter((box) => !box.disabled).map((box) => box.value);
    correct({ domains, subtypes }, "Saved the domains and sub-types.");
  });

  // The offset in the stored text of a point in the page: pieces carry their start (data-start).
  function offsetOf(node, offset) {
    if (node.nodeType === Node.TEXT_NODE) return +node.parentElement.closest("[data-start]").dataset.start + offset;
    const point = document.createRange();
    point.setStart(node, offset);
    const pieces = [...text.querySelectorAll("[data-start]")];
    const after = pieces.find((piece) => point.comparePoint(piece, 0) >= 0);
    if (after) return +after.dataset.start;
    const last = pieces[pieces.length - 1];
    return +last.dataset.start + last.textContent.length;
  }

  const title = document.getElementById("label-menu-title");
  const buttons = () => [...menu.querySelectorAll("button")].filter((b) => !b.hidden && !b.disabled);
  let target = null;  // { start, end, words, label?, element? }
  function openMenu(span, rect) {
    target = span;
    title.textContent = span.label ? `“${span.words}” is ${span.label}: change it to` : `Label “${span.words}” as`;
    menu.querySelector("[data-remove]").hidden = !span.label;
    menu.querySelectorAll("[data-label]").forEach((b) => { b.disabled = b.dataset.label === span.label; });
    menu.hidden = false;
    menu.style.left = `${Math.max(4, Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - menu.offsetWidth - 4))}px`;
    menu.style.top = `${window.scrollY + rect.bottom + 6}px`;
    buttons()[0].focus({ preventScroll: true });
  }
  function closeMenu(refocus = false) {
    const back = target?.element;
    menu.hidden = true;
    target = null;
    if (refocus) back?.focus();
  }

  function fromSelection() {
    const selection = getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    if (!text.contains(range.startContainer) || !text.contains(range.endContainer)) return;
    const said = selection.toString();
    const start = offsetOf(range.startContainer, range.startOffset) + (said.length - said.trimStart().length);
    const end = offsetOf(range.endContainer, range.endOffset) - (said.length - said.trimEnd().length);
    if (end > start) openMenu({ start, end, words: said.trim() }, range.getBoundingClientRect());
  }
  text.addEventListener("mouseup", () => setTimeout(fromSelection, 0));
  text.addEventListener("keyup", (event) => { if (event.shiftKey) fromSelection(); });

  function openEntity(element) {
    const [start, end] = element.dataset.ent.split(":").map(Number);
    openMenu({ start, end, words: element.textContent, label: element.dataset.label, element }, element.getBoundingClientRect());
  }
  text.addEventListener("click", (event) => {
    const entity = event.target.closest(".ent");
    if (entity && getSelection().isCollapsed) openEntity(entity);
  });
  text.addEventListener("keydown", (event) => {
    const entity = event.target.closest(".ent");
    if (entity && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); openEntity(entity); }
  });

  menu.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || !target) return;
    const { start, end, words } = target;
    if ("remove" in button.dataset) correct({ remove: [{ start, end }] }, `Removed the entity “${words}”.`);
    else if (target.label && button.dataset.label) correct({ relabel: [{ start, end, label: button.dataset.label }] }, `“${words}” is now ${button.dataset.label}.`);
    else if (button.dataset.label) correct({ add: [{ start, end, label: button.dataset.label }] }, `Added “${words}” as ${button.dataset.label}.`);
    closeMenu("cancel" in button.dataset);
  });
  menu.addEventListener("keydown", (event) => {
    const all = buttons();
    const at = all.indexOf(document.activeElement);
    if (event.key === "ArrowDown") all[(at + 1) % all.length].focus();
    else if (event.key === "ArrowUp") all[(at - 1 + all.length) % all.length].focus();
    else return;
    event.preventDefault();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && !menu.hidden) closeMenu(true); });
  document.addEventListener("mousedown", (event) => { if (!menu.hidden && !menu.contains(event.target)) closeMenu(); });
});
