// A table or chart wider than its box scrolls sideways there (on a phone, most tables do). A keyboard user can only
// scroll what can take focus, so each box that overflows becomes a tab stop, named by its own label, its
// data-scroll-label (where one heading has two such boxes) or the heading before it; boxes that fit stay out of
// the tab order; a line above such a box says that it scrolls (its data-scroll-hint, or the page's). Checked again
// when the window changes size or htmx swaps part of the page. A box opens on its [data-in-view] part (a plan's
// due week) from a tablet up, where the row headers stay beside it; a phone opens at the start, names in view.
(() => {
  const heading = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      for (let before = node.previousElementSibling; before; before = before.previousElementSibling) {
        if (/^H[1-6]$/.test(before.tagName)) {
          return before.textContent.trim();
        }
      }
    }
    return "";
  };
  const mark = () => {
    document.querySelectorAll("main .scroll, main table.data, main .chainmap").forEach((box) => {
      const overflows = box.scrollWidth > box.clientWidth + 1;
      if (overflows && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.dataset.scroller = "1";
        box.dataset.hint = box.dataset.scrollHint || document.body.dataset.scrollHint || ""; // shown above it (agglo.css)
        if (box.tagName === "DIV" && !box.hasAttribute("role")) {
          box.setAttribute("role", "region");
        }
        if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
          const name = box.dataset.scrollLabel || heading(box);
          if (name) {
            box.setAttribute("aria-label", name);
          }
        }
      } else if (!overflows && box.dataset.scroller) {
        box.removeAttribute("tabindex");
        delete box.dataset.scroller;
      }
    });
  };
  const open = () => {
    if (!window.matchMedia("(min-width: 641px)").matches) {
      return;
    }
    document.querySelectorAll("main [data-scroller] [data-in-view]").forEach((part) => {
      const box = part.closest("[data-scroller]");
      const past = part.getBoundingClientRect().right - box.getBoundingClientRect().right;
      if (past > 0) {
        box.scrollLeft += past;
      }
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    mark();
    open();
  });
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
