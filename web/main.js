// Bootstrap: register the service worker and start the Go app.
"use strict";
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch((e) => console.warn("no offline support:", e));
}
(async () => {
  try {
    await sg2imStart(document.baseURI);
  } catch (e) {
    const app = document.getElementById("app");
    app.textContent = "sg2im could not start: " + e + ". Reload the page; if it persists, your browser may lack WebAssembly.";
  }
})();
