// Goals: names and parameters by DataFast's rules; click goals and scroll goals from HTML attributes
// (data-fast-*, data-postmetric-*, data-footfall-*).

export const GOAL_NAME = /^[a-z0-9_:-]{1,64}$/;
const PARAM_KEY = /^[a-z0-9_-]{1,64}$/;
const PREFIXES = ["fast", "postmetric", "footfall"];
const MAX_PARAMS = 10;

// At most 10 parameters, keys a-z 0-9 _ -, string values of at most 255 characters without markup.
export function cleanParams(params, log) {
  const out = {};
  let n = 0;
  for (const key in params || {}) {
    const value = params[key];
    if (!PARAM_KEY.test(key) || value == null || typeof value == "object") {
      log("parameter ignored: " + key);
    } else if (n++ < MAX_PARAMS) {
      out[key] = String(value).replace(/<[^>]*>/g, "").slice(0, 255);
    } else log("more than " + MAX_PARAMS + " parameters: " + key + " ignored");
  }
  return out;
}

// data-fast-goal-plan-name="pro" -> {plan_name: "pro"}
function attrParams(el, prefix, skip) {
  const params = {};
  for (const a of el.attributes) {
    if (a.name.indexOf(prefix) == 0 && skip.indexOf(a.name) < 0) {
      params[a.name.slice(prefix.length).replace(/-/g, "_")] = a.value;
    }
  }
  return params;
}

export function watchClickGoals(goal) {
  const selector = PREFIXES.map((p) => "[data-" + p + "-goal]").join(",");
  document.addEventListener(
    "click",
    (e) => {
      const el = e.target.closest && e.target.closest(selector);
      if (!el) return;
      const p = PREFIXES.find((x) => el.hasAttribute("data-" + x + "-goal"));
      goal(el.getAttribute("data-" + p + "-goal"), attrParams(el, "data-" + p + "-goal-", []));
    },
    true
  );
}

// Scroll goals fire once per page view, when enough of the element is visible (default half),
// after an optional delay during which it must stay visible. `scan()` starts a page view's watch.
export function watchScrollGoals(goal) {
  let stops = [];
  return function scan() {
    stops.forEach((stop) => stop());
    stops = [];
    if (!window.IntersectionObserver) return;
    for (const p of PREFIXES) {
      const base = "data-" + p + "-scroll";
      document.querySelectorAll("[" + base + "]").forEach((el) => {
        const threshold = Math.min(1, Math.max(0, parseFloat(el.getAttribute(base + "-threshold")) || 0.5));
        const delay = parseInt(el.getAttribute(base + "-delay")) || 0;
        let timer;
        const o = new IntersectionObserver(
          (entries) => {
            clearTimeout(timer);
            if (entries[entries.length - 1].intersectionRatio < threshold) return;
            timer = setTimeout(() => {
              o.disconnect();
              goal(el.getAttribute(base), attrParams(el, base + "-", [base + "-threshold", base + "-delay"]));
            }, delay);
          },
          { threshold }
        );
        o.observe(el);
        stops.push(() => {
          clearTimeout(timer);
          o.disconnect();
        });
      });
    }
  };
}
