// The site's own behaviour, next to the theme's script (pydata-sphinx-theme.js, sphinx-book-theme.js).
// Checked in Chromium by tests/site/test_phone.py and tests/site/test_a11y.py.
(() => {
  const ready = (f) => (document.readyState === "loading" ? document.addEventListener("DOMContentLoaded", f) : f());

  // A figure that scrolls sideways (a diamond figure on a phone) can be focused and scrolled with the
  // keyboard, like the theme does for wide tables (WCAG 2.1.1; axe: scrollable-region-focusable).
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
  // The same for the table of a figure ("Toon als tabel", a <details>): a tab stop only while it is open and wider
  // than the page, so a closed table adds none (the theme does this for its own wide tables).
  // Every box that scrolls sideways (a wide table) says on which side more of it lies (data-oml-more), so that the
  // CSS can fade that edge: a visible cue that the table goes on.
  const more = (box) => {
    const left = box.scrollLeft > 1, right = box.scrollLeft + box.clientWidth < box.scrollWidth - 1;
    const side = left && right ? "both" : left ? "left" : right ? "right" : "";
    if (side) box.dataset.omlMore = side; else delete box.dataset.omlMore;
  };
  const markTables = () => {
    document.querySelectorAll(".oml-table-scroll").forEach((box) => {
      if (box.scrollWidth > box.clientWidth) box.tabIndex = 0; else box.removeAttribute("tabindex");
    });
    document.querySelectorAll(".oml-table-scroll, .pst-scrollable-table-container").forEach(more);
  };
  document.addEventListener("scroll", (event) => {
    if (event.target instanceof Element && event.target.matches(".oml-table-scroll, .pst-scrollable-table-container")) more(event.target);
  }, {capture: true, passive: true});  // scroll does not bubble: caught on its way down
  document.addEventListener("toggle", markTables, true);  // nor does toggle
  ready(markTables);
  let timer = null;
  window.addEventListener("resize", () => { clearTimeout(timer); timer = setTimeout(() => { mark(); markTables(); }, 200); });
  if (document.readyState === "complete") mark(); else window.addEventListener("load", mark);

  ready(() => {
    // The chapter menu (☰) and the page contents. The theme opens them as a drawer (a modal <dialog>) on a
    // phone and, for the menu, folds the sidebar away on a wide screen. Here: their state for screen readers
    // (aria-expanded), a close button in the drawer, and focus back on the button when a drawer closes.
    const drawers = [
      {toggle: ".primary-toggle", sidebar: "pst-primary-sidebar", dialog: "pst-primary-sidebar-modal", wide: "(min-width: 960px)"},
      {toggle: ".secondary-toggle", sidebar: "pst-secondary-sidebar", dialog: "pst-secondary-sidebar-modal", wide: null},
    ];
    for (const d of drawers) {
      const toggle = document.querySelector(d.toggle);
      const sidebar = document.getElementById(d.sidebar);
      const dialog = document.getElementById(d.dialog);
      if (!toggle || !sidebar || !dialog) continue;
      const wide = d.wide ? window.matchMedia(d.wide) : null;
      const update = () => {
        const shown = dialog.open || (!!wide && wide.matches && !sidebar.classList.contains("pst-sidebar-hidden"));
        toggle.setAttribute("aria-expanded", String(shown));
      };
      toggle.setAttribute("aria-controls", d.sidebar);
      update();
      new MutationObserver(update).observe(sidebar, {attributes: true, attributeFilter: ["class"]});
      new MutationObserver(update).observe(dialog, {attributes: true, attributeFilter: ["open"]});
      if (wide) wide.addEventListener("change", update);
      dialog.addEventListener("close", () => setTimeout(() => {
        // Not after a link to a place on the page: the reader is there now (and the button would scroll back).
        if (dialog.dataset.omlFollowed) { delete dialog.dataset.omlFollowed; return; }
        if (!document.activeElement || document.activeElement === document.body) toggle.focus({preventScroll: true});
      }, 0));
    }
    document.addEventListener("click", (event) => {
      const close = event.target.closest(".oml-drawer-close");
      if (close) close.closest("dialog")?.close();
      // A link to a place on this page (the page contents): close the drawer, so the reader sees where it went.
      const link = event.target.closest("dialog a[href^='#']");
      if (link) {
        link.closest("dialog").dataset.omlFollowed = "1";
        link.closest("dialog").close();
      }
    });

    // The theme takes the focus off its header buttons when they are clicked (to hide a tooltip); pressed with
    // the keyboard, the focus would fall back to the start of the page. Give it back.
    document.addEventListener("click", (event) => {
      const button = event.target.closest(".primary-toggle, .secondary-toggle, .theme-switch-button, .search-button");
      if (button && event.detail === 0) {
        setTimeout(() => { if (document.activeElement === document.body) button.focus(); }, 0);
      }
    }, true);

    // The download menu of the article header (the theme used Bootstrap's dropdown for it).
    document.querySelectorAll(".dropdown-toggle").forEach((button) => {
      const menu = button.parentElement.querySelector(".dropdown-menu");
      if (!menu) return;
      const show = (open) => {
        menu.classList.toggle("show", open);
        button.setAttribute("aria-expanded", String(open));
      };
      button.addEventListener("click", () => show(!menu.classList.contains("show")));
      document.addEventListener("keydown", (event) => {
        if (event.key !== "Escape" || !menu.classList.contains("show")) return;
        const inside = button.parentElement.contains(document.activeElement);
        show(false);
        if (inside) button.focus();
      });
      button.parentElement.addEventListener("focusout", (event) => {
        if (!button.parentElement.contains(event.relatedTarget)) show(false);
      });
      document.addEventListener("click", (event) => { if (!button.parentElement.contains(event.target)) show(false); });
    });

    // "Naar boven": shown while the reader scrolls back up a long page (the theme did this with Bootstrap).
    const top = document.getElementById("pst-back-to-top");
    if (top) {
      let last = window.scrollY;
      window.addEventListener("scroll", () => {
        top.style.display = window.scrollY < last && window.scrollY > window.innerHeight ? "block" : "none";
        last = window.scrollY;
      }, {passive: true});
      top.addEventListener("click", (event) => {
        window.scrollTo(0, 0);
        top.style.display = "none";
        if (event.detail === 0) document.querySelector("#pst-skip-link a")?.focus();
      });
    }
  });
})();
