// Builds src/ into one minified file the server serves at /js/script.js.
//   npm ci && npm run build            (writes ../src/footfall/static/script.js)
//   node build.mjs --outfile=/tmp/x.js (writes elsewhere: the test that checks the committed file is current)
import { build } from "esbuild";
import { readFileSync } from "node:fs";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url)));
const out = process.argv.find((a) => a.startsWith("--outfile="));
const core = process.argv.includes("--core"); // without device signals and form capture: the 4 KB budget's build
// the cookieless script (/js/script.cookieless.js): nothing stored in the browser, no device signals
const cookieless = process.argv.includes("--cookieless");
const target = cookieless ? "script.cookieless.js" : "script.js";

await build({
  entryPoints: [new URL("./src/index.js", import.meta.url).pathname],
  outfile: out ? out.slice("--outfile=".length) : new URL(`../src/footfall/static/${target}`, import.meta.url).pathname,
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2017",
  legalComments: "none",
  banner: { js: `/* footfall tracker ${version}: built from tracker/src by \`npm run build\` */` },
  logLevel: "warning",
  define: {
    DEVICE: core || cookieless ? "false" : "true",
    FORMS: core ? "false" : "true",
    COOKIELESS: cookieless ? "true" : "false",
  },
});
