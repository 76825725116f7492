// First-party storage: a cookie on data-domain (shared by its subdomains), with localStorage
// as the fallback when cookies are blocked or cleared.

// PostMetric's tag (a `pmid_` website id) keeps its own cookie names, which its users' servers read
const NAMES = [["datafast_visitor_id", "datafast_session_id"], ["_pm_vid", "_pm_sid"]];
const YEAR = 365 * 86400;
const HALF_HOUR = 1800;

export function safe(fn) {
  try {
    return fn();
  } catch (e) {
    return null; // storage blocked (private modes, sandboxed frames) or full
  }
}

export function makeStorage(doc, loc, domain, local, pm) {
  // the cookieless script keeps nothing: the server knows the visitor by a daily salted hash
  if (COOKIELESS) return { ls: null, get: () => null, visitor: () => null, session: () => null, remember() {} };
  const ls = safe(() => window.localStorage);
  const [VISITOR, SESSION] = NAMES[+pm];
  const cookie = (name) => {
    const m = doc.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  };
  const setCookie = (name, value, seconds) => {
    let c = name + "=" + encodeURIComponent(value) + "; path=/; SameSite=Lax; max-age=" + seconds;
    if (!local && domain) c += "; domain=." + domain;
    if (loc.protocol === "https:") c += "; Secure";
    doc.cookie = c;
  };
  const get = (name) => cookie(name) || safe(() => ls.getItem(name));
  return {
    ls,
    get,
    visitor: () => get(VISITOR),
    session: () => cookie(SESSION),
    remember(visitorId, sessionId) {
      if (visitorId) {
        setCookie(VISITOR, visitorId, YEAR);
        safe(() => ls.setItem(VISITOR, visitorId));
      }
      if (sessionId) setCookie(SESSION, sessionId, HALF_HOUR);
    },
  };
}
