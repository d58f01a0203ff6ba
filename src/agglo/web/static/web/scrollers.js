// A table or chart wider than its box scrolls sideways there (on a phone, most tables do). A keyboard user can only
// scroll what can take focus, so each box that overflows becomes a tab stop, named by its own label, its
// data-scroll-label (where one heading has two such boxes) or the heading before it; boxes that fit stay out of
// the tab order; on a phone a line above such a box says that it scrolls. Checked again when the window changes
// size or htmx swaps part of the page.
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
        box.dataset.hint = document.body.dataset.scrollHint || ""; // shown above it on a phone (agglo.css)
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
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("htmx:afterSettle", mark);
})();
