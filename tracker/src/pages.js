// Page views: on load and on single-page-app navigation (pushState, replaceState, popstate,
// hashchange); the same URL is not counted twice within 60 seconds, even across reloads
// (sessionStorage, as DataFast's script).

import { safe } from "./storage.js";

const KEY = "footfall_pageview";
const REPEAT_MS = 60000;

export function watchPages(onPage) {
  let last = {};
  const pageview = () => {
    const url = location.href;
    const now = Date.now();
    const seen = (!COOKIELESS && safe(() => JSON.parse(sessionStorage.getItem(KEY)))) || last;
    if (seen.url == url && now - seen.time < REPEAT_MS) return;
    last = { url, time: now };
    if (!COOKIELESS) safe(() => sessionStorage.setItem(KEY, JSON.stringify(last)));
    onPage();
  };
  let timer;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(pageview, 100); // a router's pushState + replaceState count once
  };
  for (const m of ["pushState", "replaceState"]) {
    const orig = history[m];
    history[m] = function () {
      const r = orig.apply(this, arguments);
      soon();
      return r;
    };
  }
  addEventListener("popstate", soon);
  addEventListener("hashchange", soon);
  pageview();
}
