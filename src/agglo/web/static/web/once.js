// A form that changes something, sent twice (a double click, Enter pressed again while the next page loads), would do
// its work twice: two orders, two sets of offers to the factories. Once such a form is on its way, it is not sent
// again until the page changes. A question the form asks first (confirm.js) that is declined does not count, and
// forms htmx sends (it manages its own requests) are left alone.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method !== "post" || [...form.attributes].some((a) => a.name.includes("hx-"))) {
    return;
  }
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "true";
  form.setAttribute("aria-busy", "true");
});

// Back to the page from the browser's cache: its forms may be sent again.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    for (const form of document.querySelectorAll("form[data-sent]")) {
      delete form.dataset.sent;
      form.removeAttribute("aria-busy");
    }
  }
});
