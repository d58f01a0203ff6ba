// After a form is sent the page loads again from the top, and a keyboard or screen-reader user would have to look
// for what happened. Put focus where the outcome is: the first field marked invalid (its error is its
// description), else the first error message, else the messages of what was just done. Not where the page itself
// asks for a field (autofocus) or an anchor ("#capability-form") says where to go.
document.addEventListener("DOMContentLoaded", () => {
  if (window.location.hash || document.querySelector("[autofocus]")) {
    return;
  }
  const target =
    document.querySelector("main [aria-invalid='true']") ||
    document.querySelector("main .errorlist") ||
    document.getElementById("messages");
  if (!target) {
    return;
  }
  if (!target.matches("input, select, textarea, button, a[href]") && !target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
});
