// Progressive enhancement for the admin portal: a Copy button beside each
// element marked data-copy (client secrets, client IDs, snippets). Without
// JavaScript the text is still there to select.
"use strict";
document.querySelectorAll("[data-copy]").forEach(function (el) {
  if (!navigator.clipboard) return;
  var b = document.createElement("button");
  b.type = "button";
  b.className = "copy";
  b.textContent = "Copy";
  b.setAttribute("aria-label", "Copy " + (el.getAttribute("data-copy") || "text"));
  b.addEventListener("click", function () {
    navigator.clipboard.writeText(el.textContent.trim()).then(function () {
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = "Copy"; }, 2000);
    });
  });
  el.insertAdjacentElement("afterend", b);
});
