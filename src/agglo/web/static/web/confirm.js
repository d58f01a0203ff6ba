// A form (or its submit button) with data-confirm asks before it is sent (deleting a record has no undo); without
// script it just sends.
document.addEventListener("submit", (event) => {
  // the button pressed may ask for itself (one of several in a form), else the form asks
  const asker = event.submitter && event.submitter.dataset.confirm ? event.submitter : event.target;
  const question = asker.dataset && asker.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
