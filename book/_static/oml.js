// A figure that scrolls sideways (a diamond figure on a phone) can be focused and scrolled with the
// keyboard, like the theme does for wide tables (WCAG 2.1.1; axe: scrollable-region-focusable).
(() => {
  const mark = () => document.querySelectorAll(".bd-article figure").forEach((figure) => {
    const scrolls = figure.scrollWidth > figure.clientWidth;
    if (scrolls) {
      figure.tabIndex = 0;
      figure.setAttribute("aria-label", (figure.querySelector("figcaption")?.textContent || "Figuur").trim() + " (schuift opzij)");
      figure.setAttribute("role", "group");
    } else {
      figure.removeAttribute("tabindex");
      figure.removeAttribute("aria-label");
      figure.removeAttribute("role");
    }
  });
  let timer = null;
  window.addEventListener("resize", () => { clearTimeout(timer); timer = setTimeout(mark, 200); });
  if (document.readyState === "complete") mark(); else window.addEventListener("load", mark);
})();
