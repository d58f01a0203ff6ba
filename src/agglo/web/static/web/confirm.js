// A form with data-confirm asks before it is sent (deleting a record has no undo); without script it just sends.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
