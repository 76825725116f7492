/* footfall tracker (first version: page views and SPA navigation). Source of truth until tracker/ lands. */
(function () {
  "use strict";
  var w = window, d = document, loc = w.location, ls = null;
  try { ls = w.localStorage; } catch (e) { /* storage blocked */ }
  var s = d.currentScript;
  if (!s) return;
  var attr = function (n) { return s.getAttribute("data-" + n); };
  var siteId = attr("website-id");
  var domain = attr("domain") || loc.hostname;
  var debug = attr("debug") === "true";
  var log = function (m) { if (debug && attr("disable-console") !== "true") console.log("[footfall] " + m); };
  if (!siteId) return log("missing data-website-id");
  var api = attr("api-url") || new URL("/api/events", s.src).href;
  var local = /^(localhost|127\.|\[::1\]$)/.test(loc.hostname);
  if (local && attr("allow-localhost") !== "true") return log("localhost is not tracked");
  if (loc.protocol === "file:" && attr("allow-file-protocol") !== "true") return log("file: is not tracked");
  var ignored = ["footfall_ignore", "datafast_ignore", "postmetric_ignore"].some(function (k) {
    return ls && ls.getItem(k) === "true";
  });
  if (ignored) return log("opted out");

  var VID = "datafast_visitor_id", SID = "datafast_session_id";
  function getCookie(name) {
    var m = d.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  function setCookie(name, value, days) {
    var c = name + "=" + encodeURIComponent(value) + "; path=/; SameSite=Lax; max-age=" + Math.round(days * 86400);
    if (!local && domain) c += "; domain=." + domain.replace(/^\./, "");
    if (loc.protocol === "https:") c += "; Secure";
    d.cookie = c;
  }
  function get(name) { return getCookie(name) || (ls && ls.getItem(name)); }
  function put(name, value, days) {
    setCookie(name, value, days);
    try { ls && ls.setItem(name, value); } catch (e) { /* full or blocked */ }
  }

  var chain = Promise.resolve();
  function send(type, extra) {
    var body = {
      websiteId: siteId, domain: domain, type: type, href: loc.href, referrer: d.referrer || null,
      title: d.title, visitorId: get(VID), sessionId: getCookie(SID),
      viewport: { width: w.innerWidth, height: w.innerHeight },
      screenWidth: w.screen.width, screenHeight: w.screen.height, language: navigator.language,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, extraData: extra || undefined
    };
    // One request at a time, so the id the server signs is stored before the next event goes.
    chain = chain.then(function () {
      return fetch(api, { method: "POST", body: JSON.stringify(body), keepalive: true,
                          headers: { "Content-Type": "text/plain" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (j && j.visitorId) { put(VID, j.visitorId, 365); setCookie(SID, j.sessionId, 1 / 48); }
          log(type + " sent");
        })
        .catch(function (e) { log("send failed: " + e); });
    });
    return chain;
  }

  var last = null;
  function pageview() {
    if (loc.href === last) return;
    last = loc.href;
    send("pageview");
  }
  ["pushState", "replaceState"].forEach(function (m) {
    var orig = history[m];
    history[m] = function () { var r = orig.apply(this, arguments); setTimeout(pageview, 0); return r; };
  });
  w.addEventListener("popstate", pageview);
  pageview();
})();
