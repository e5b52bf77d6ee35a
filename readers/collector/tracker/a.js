/* pvjobs tracker. Include with
 *   <script src="https://stats.example.com/a.js" data-account="blog" defer></script>
 * Optional: data-visitor-id="..." (the site's own visitor id).
 * Sends url, title and referrer once per page, and again on every history
 * navigation of a single-page app (pushState, back/forward), with
 * navigator.sendBeacon to /e, falling back to the /a.gif pixel. */
(function (w, d, n) {
  "use strict";
  var s = d.currentScript;
  var account = s && s.getAttribute("data-account");
  if (!account) return;
  var base = s.src.replace(/\/a\.js([?#].*)?$/, "");
  var vid = s.getAttribute("data-visitor-id") || "";
  var last = "";
  function enc(v) { return encodeURIComponent(v || ""); }
  function send() {
    var url = w.location.href;
    var page = url.split("#")[0];
    if (page === last) return;
    var ref = last || d.referrer;
    last = page;
    var f = { id: account, url: url, ref: ref, title: d.title };
    if (vid) f.vid = vid;
    try {
      if (n.sendBeacon && n.sendBeacon(base + "/e", JSON.stringify(f))) return;
    } catch (e) { /* fall back to the pixel */ }
    new Image(1, 1).src = base + "/a.gif?id=" + enc(account) + "&url=" + enc(url) +
      "&ref=" + enc(ref) + "&title=" + enc(d.title) + (vid ? "&vid=" + enc(vid) : "");
  }
  // An app sets the new title after pushState: send once it has.
  function later() { w.setTimeout(send, 0); }
  var h = w.history;
  if (h && h.pushState) {
    var push = h.pushState;
    h.pushState = function () {
      var r = push.apply(this, arguments);
      later();
      return r;
    };
    w.addEventListener("popstate", later);
  }
  if (d.visibilityState === "prerender") {
    d.addEventListener("visibilitychange", function wait() {
      if (d.visibilityState === "prerender") return;
      d.removeEventListener("visibilitychange", wait);
      send();
    });
  } else {
    send();
  }
})(window, document, navigator);
