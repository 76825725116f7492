// footfall's tracker: page views, goals, identify, payments and outbound links, sent to the
// footfall server in DataFast's wire format. One file, no configuration beyond the script tag.

import { automation } from "./automation.js";
import { readConfig } from "./config.js";
import { deviceSignals } from "./device.js";
import { watchForms } from "./forms.js";
import { GOAL_NAME, cleanParams, watchClickGoals, watchScrollGoals } from "./goals.js";
import { arrivingIds, watchLinks } from "./links.js";
import { watchPages } from "./pages.js";
import { detectPayment } from "./payments.js";
import { makeStorage, safe } from "./storage.js";
import { makeTransport } from "./transport.js";

const ALIASES = ["footfall", "datafast", "postmetric", "postMetric"];
const OPT_OUT = ["footfall_ignore", "datafast_ignore", "postmetric_ignore"];
const LOCAL = /^(localhost|127\.|\[::1\]$)/;

function whyNot(cfg, w, loc, nav) {
  const local = LOCAL.test(loc.hostname);
  if (!cfg.site) return "missing data-website-id";
  if (local && !cfg.localhost) return "localhost is not tracked (data-allow-localhost)";
  if (loc.protocol == "file:" && !cfg.file) return "file: is not tracked (data-allow-file-protocol)";
  if (w != w.top && !cfg.iframe) return "not tracked inside an iframe";
  if (OPT_OUT.some((k) => safe(() => localStorage.getItem(k)) == "true")) return "opted out";
  return "";
}

(function (w, doc, loc, nav) {
  const cfg = readConfig(doc.currentScript, loc);
  const log = (m) => cfg.debug && !cfg.quiet && console.log("[footfall] " + m);
  const queued = ALIASES.map((n) => (w[n] && w[n].q) || []);
  const expose = (fn) => ALIASES.forEach((n) => (w[n] = fn));
  const why = whyNot(cfg, w, loc, nav);
  if (why) {
    // one line even without data-debug: a script that silently does nothing misleads (quiet: data-disable-console)
    if (!cfg.quiet) console.info("[footfall] not tracking: " + why);
    const off = (name) => (name == "device" ? Promise.reject(new Error("footfall: " + why)) : log("not tracking: " + why));
    off.getVisitorId = off.getSessionId = () => null;
    return expose(off);
  }

  const store = makeStorage(doc, loc, cfg.domain, LOCAL.test(loc.hostname), /^pmid_/.test(cfg.site));
  const replaceState = history.replaceState;
  const arrived = arrivingIds(loc, replaceState);
  if (arrived) store.remember(arrived[0], arrived[1]);
  let token = arrived && arrived[2]; // an email link's: goes with the first event

  // Device signals go with the first event of each page load (the build for the 4 KB core budget
  // leaves them out: DEVICE is false there and esbuild drops the module).
  // With data-consent-required they wait for footfall("consent", true), remembered on this browser.
  let device = null;
  let signals = null;
  const CONSENT = "footfall_consent";
  const consented = () => !cfg.consent || safe(() => localStorage.getItem(CONSENT)) == "true";
  const collect = () => (signals = DEVICE && cfg.device && consented() ? deviceSignals(nav, 300).catch(() => null) : null);
  const ready = collect() && signals.then((d) => (device = d));
  const body = (item) => {
    if (token && !item.token) (item.token = token), (token = null);
    if (device && !item.device) {
      item.device = device; // this event carries them, retries included
      device = null;
    }
    return {
      websiteId: cfg.site,
      domain: cfg.domain,
      type: item.type,
      href: item.href,
      referrer: doc.referrer || null,
      title: item.title,
      visitorId: store.visitor(),
      sessionId: store.session(),
      viewport: { width: w.innerWidth, height: w.innerHeight },
      screenWidth: screen.width,
      screenHeight: screen.height,
      language: nav.language,
      timezone: safe(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
      extraData: item.data,
      gpc: nav.globalPrivacyControl === true || undefined,
      dnt: nav.doNotTrack == "1" || undefined,
      ffSignals: item.device || undefined, // footfall's own fields: ff*, never DataFast's `device`
      ffAutomation: safe(() => automation(nav)),
      consent: (cfg.consent && item.device && true) || undefined, // the site asks for it: it was given
      linkToken: item.token || undefined,
      cookieless: COOKIELESS || undefined,
    };
  };
  // browserId: this browser's own id when the server matched it to a known visitor by its device signals
  const send = makeTransport(cfg.api, body, (r) => store.remember(r.browserId || r.visitorId, r.sessionId), log, ready);
  const track = (type, data) => send({ type, data, href: loc.href, title: doc.title });

  function goal(name, params) {
    if (!GOAL_NAME.test(name || "") || name == "identify") {
      return log("invalid goal name " + JSON.stringify(name) + ": lowercase a-z 0-9 _ - :, at most 64");
    }
    track("custom", Object.assign(cleanParams(params, log), { eventName: name }));
  }

  // footfall("device", {linkedId, tag}): a Promise of {visitorId, requestId, visitorFound, confidence},
  // as Fingerprint's agent answers.
  function identification(opts) {
    opts = opts || {};
    const data = { linkedId: opts.linkedId == null ? undefined : String(opts.linkedId), tag: opts.tag };
    return Promise.resolve(signals)
      .then((d) => new Promise((done) => send({ type: "identification", data, href: loc.href, device: d, done })))
      .then((r) =>
        r
          ? { visitorId: r.visitorId, requestId: r.requestId, visitorFound: r.visitorFound, confidence: r.confidence }
          : Promise.reject(new Error("footfall: identification failed"))
      );
  }

  function identify(person) {
    const data = {};
    for (const k in person || {}) {
      const v = person[k];
      if (v != null && typeof v != "object") data[k == "userId" ? "user_id" : k] = String(v).slice(0, 255);
    }
    if (!data.user_id) return log("identify needs user_id");
    track("identify", data);
  }

  // footfall("goal_name", {...}), footfall("identify", {...}), footfall("payment", {email}),
  // and PostMetric's documented postMetric("track", "goal", {event, value}).
  function api(name, a, b) {
    if (name == "identify") return identify(a);
    if (name == "device") return identification(a);
    if (name == "consent") {
      if (!COOKIELESS) safe(() => (a ? localStorage.setItem(CONSENT, "true") : localStorage.removeItem(CONSENT)));
      return a && collect() && signals.then((d) => (device = d)); // the next event carries them
    }
    if (name == "payment") return track("payment", cleanParams(a, log));
    if (name == "track" && a == "goal") return goal(b && b.event, b && b.value != null ? { value: b.value } : {});
    goal(name, a);
  }
  api.getVisitorId = store.visitor;
  api.getSessionId = store.session;
  expose(api);

  const scanScroll = watchScrollGoals(goal);
  watchClickGoals(goal);
  if (FORMS && cfg.forms) watchForms((fields) => track("form", fields));
  watchLinks(cfg, () => [store.visitor(), store.session()], track);
  watchPages(() => {
    track("pageview");
    scanScroll();
  });
  const paid = new Set(); // the cookieless script remembers checkouts for this page only
  const first = (k) => (COOKIELESS ? !paid.has(k) && paid.add(k) : safe(() => !localStorage.getItem(k) && !localStorage.setItem(k, "1")));
  if (cfg.payments) detectPayment(loc, first, track);
  queued.forEach((calls) => calls.forEach((args) => api.apply(null, args)));
})(window, document, location, navigator);
