// A matching result's link (data-click: its query, item and rank) tells the platform that the member opened it,
// by a POST beside the navigation: the link's own GET records nothing, since a GET can be set off from another
// site. Without script the link still opens the result.
function reportClick(event) {
  if (event.type === "auxclick" && event.button !== 1) {
    return; // a right click (to copy the link, say) opens nothing
  }
  const link = event.target.closest && event.target.closest("a[data-click]");
  if (!link || !navigator.sendBeacon) {
    return;
  }
  const body = new FormData();
  for (const name of ["q", "item", "rank"]) {
    body.append(name, link.dataset[name] || "");
  }
  const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  body.append("csrfmiddlewaretoken", headers["X-CSRFToken"] || "");
  navigator.sendBeacon(link.dataset.click, body);
}
document.addEventListener("click", reportClick);
document.addEventListener("auxclick", reportClick); // a middle click opens it in a new tab
