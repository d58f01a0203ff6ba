// Without script the phone menu is a checkbox and its label, which a screen reader calls a checkbox. With script
// the label becomes a disclosure button that says whether the menu is open (aria-expanded), and Escape closes the
// menu and returns focus to the button. The checkbox stays, out of reach, because the stylesheet opens the menu
// from its state.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("menu-toggle");
  const label = document.querySelector("label[for='menu-toggle']");
  if (!box || !label) {
    return;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "menu-button";
  button.textContent = label.textContent;
  button.setAttribute("aria-controls", box.getAttribute("aria-controls"));
  const show = (open) => {
    box.checked = open;
    button.setAttribute("aria-expanded", String(open));
  };
  show(box.checked);
  label.replaceWith(button);
  box.disabled = true;
  box.setAttribute("aria-hidden", "true");
  button.addEventListener("click", () => show(!box.checked));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && box.checked) {
      show(false);
      button.focus();
    }
  });
});
