// Shared by every view: calls to the JSON API (the session cookie signs them in; the header tells
// the API the write comes from this page), messages, and keyboard navigation of lists.
"use strict";
const kunlun = (() => {
  function flash(text, bad = false) {
    const box = document.getElementById("flash");
    const msg = document.createElement("div");
    msg.className = bad ? "msg bad" : "msg";
    msg.textContent = text;
    box.append(msg);
    setTimeout(() => msg.remove(), bad ? 9000 : 4000);
  }

  async function api(method, url, body) {
    const options = { method, headers: { "X-Kunlun-Page": "1" }, credentials: "same-origin" };
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
    if (response.status === 401) {
      location.href = "/ui/sign-in?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("signed out");
    }
    if (!response.ok) {
      const error = new Error((data && data.detail) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // j / k move through the items of a [data-nav-list]; Enter opens the current one's first link.
  function navigate(list, onKey) {
    const items = () => [...list.querySelectorAll("[data-nav-item]")];
    let current = -1;
    function select(index) {
      const all = items();
      if (!all.length) return;
      current = Math.max(0, Math.min(all.length - 1, index));
      all.forEach((item, i) => item.classList.toggle("current", i === current));
      all[current].scrollIntoView({ block: "nearest" });
      all[current].focus({ preventScroll: true });
    }
    document.addEventListener("keydown", (event) => {
      if (event.target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
      const all = items();
      if (event.key === "j") { select(current + 1); event.preventDefault(); }
      else if (event.key === "k") { select(current - 1); event.preventDefault(); }
      else if (event.key === "Enter" && all[current] && event.target === all[current]) {
        all[current].querySelector("a")?.click(); event.preventDefault();
      } else if (onKey && all[current]) onKey(event, all[current]);
    });
    return { select, current: () => items()[current] };
  }

  // "/" jumps to the search box wherever it is.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.target.closest("input, textarea, select, [contenteditable]")) return;
    const box = document.querySelector("input[type=search]");
    if (box) { box.focus(); box.select(); event.preventDefault(); }
  });

  return { api, flash, navigate };
})();
