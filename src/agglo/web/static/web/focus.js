// After a form is sent the page loads again from the top, and a keyboard or screen-reader user would have to look
// for what happened. Put focus where the outcome is: the first field marked invalid (its error is its
// description), else the first error message, else the messages of what was just done. Not where an anchor
// ("#capability-form") says where to go, and only for a field in error where the page itself asks for a field
// (autofocus: Django gives it to a form's first field, which may well be right).
document.addEventListener("DOMContentLoaded", () => {
  if (window.location.hash) {
    return;
  }
  const invalid = document.querySelector("main [aria-invalid='true']");
  if (!invalid && document.querySelector("[autofocus]")) {
    return;
  }
  const target = invalid || document.querySelector("main .errorlist") || document.getElementById("messages");
  if (!target) {
    return;
  }
  if (!target.matches("input, select, textarea, button, a[href]") && !target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
});
