// Without script the phone menu is a checkbox and its label, which a screen reader calls a checkbox. With script
// the label becomes a disclosure button that says whether the menu is open (aria-expanded), and Escape closes the
// menu and returns focus to the button. The checkbox stays, out of reach, because the stylesheet opens the menu
// from its state.
// Wider than a phone the links keep one row beside the brand and the session: those that do not fit move, from the
// last, under "More" (a disclosure, as the operators' menu), measured again when the window changes size or the
// fonts arrive. Escape, a click elsewhere or focus leaving closes either disclosure.
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

  const header = box.closest("header");
  const nav = document.getElementById(box.getAttribute("aria-controls"));
  const more = document.getElementById("nav-overflow");
  const tray = more.querySelector("div");
  const links = [...nav.querySelectorAll(":scope > a")];
  const brand = header.querySelector(".brand");
  const session = header.querySelector(".session");
  // a row of boxes: each starts above where the first one ends (a wrapped one starts below it)
  const inRow = (items) => {
    const bottom = items[0].getBoundingClientRect().bottom;
    return items.every((item) => item.getBoundingClientRect().top < bottom);
  };
  const oneRow = () =>
    inRow([...nav.children].filter((item) => !item.hidden)) &&
    inRow([brand, nav, session]) &&
    inRow([...session.children].filter((item) => item.getClientRects().length));
  const arrange = () => {
    const focused = document.activeElement;
    more.hidden = true;
    links.forEach((link) => nav.insertBefore(link, more));
    if (getComputedStyle(button).display === "none") {
      for (let kept = links.length; kept > 0 && !oneRow(); kept -= 1) {
        more.hidden = false;
        tray.prepend(links[kept - 1]);
      }
    }
    if (focused && focused !== document.activeElement && focused.isConnected) {
      focused.focus(); // moved by a resize, the link keeps the keyboard
    }
  };
  arrange();
  let pending = false;
  window.addEventListener("resize", () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        arrange();
      });
    }
  });
  document.fonts.ready.then(arrange);

  const disclosures = [...nav.querySelectorAll("details.nav-more")];
  const close = (details, refocus) => {
    details.open = false;
    if (refocus) {
      details.querySelector("summary").focus();
    }
  };
  document.addEventListener("click", (event) => {
    disclosures.filter((d) => d.open && !d.contains(event.target)).forEach((d) => close(d, false));
  });
  disclosures.forEach((details) =>
    details.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !details.contains(event.relatedTarget)) {
        close(details, false);
      }
    }),
  );
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") {
      return;
    }
    const open = disclosures.find((d) => d.open);
    if (open) {
      close(open, true);
    } else if (box.checked) {
      show(false);
      button.focus();
    }
  });
});
