// A view listing items in a [data-nav-list] (search results, the label-next list): j / k move
// through them, Enter opens the current one (kunlun.navigate).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const list = document.querySelector("[data-nav-list]");
  if (list) kunlun.navigate(list);
});
