// Drives Fingerprint's official Node server SDK (npm `@fingerprintjs/fingerprintjs-pro-server-api`)
// against the server it is given, through the SDK's own `fetch` option (the SDK builds its URLs on
// api.fpjs.io; the fetch sends them to footfall instead):
//   node fingerprint.mjs '{"url": "...", "apiKey": "...", "visitorId": "...", "requestId": "..."}'
// Prints, as JSON on the last line, each call's answer or the SDK's error.
import { FingerprintJsServerApiClient, Region, RequestError } from "@fingerprintjs/fingerprintjs-pro-server-api";

const config = JSON.parse(process.argv[2]);
const client = new FingerprintJsServerApiClient({
  apiKey: config.apiKey,
  region: Region.Global,
  fetch: (url, init) => fetch(String(url).replace("https://api.fpjs.io", config.url), init),
});

async function call(name, fn) {
  try {
    const value = await fn();
    return [name, { ok: true, value: value ?? null }];
  } catch (e) {
    if (e instanceof RequestError) return [name, { ok: false, status: e.statusCode, code: e.errorCode, message: e.message }];
    return [name, { ok: false, status: null, message: String(e) }];
  }
}

const results = Object.fromEntries([
  await call("getEvent", () => client.getEvent(config.requestId)),
  await call("updateEvent", () => client.updateEvent({ linkedId: "node-user", suspect: true }, config.requestId)),
  await call("getEventAfterUpdate", () => client.getEvent(config.requestId)),
  await call("searchEvents", () => client.searchEvents({ limit: 10 })),
  await call("searchSuspect", () => client.searchEvents({ limit: 10, suspect: true })),
  await call("searchVpn", () => client.searchEvents({ limit: 10, vpn: true })),
  await call("searchUnsupported", () => client.searchEvents({ limit: 10, virtual_machine: true })),
  await call("getVisits", () => client.getVisits(config.visitorId, { limit: 10 })),
  await call("getRelatedVisitors", () => client.getRelatedVisitors({ visitor_id: config.visitorId })),
  await call("getRelatedUnknown", () => client.getRelatedVisitors({ visitor_id: "00000000-0000-4000-8000-000000000000" })),
  await call("getEventUnknown", () => client.getEvent("1700000000000.nothere")),
  await call("deleteVisitorData", () => client.deleteVisitorData(config.visitorId)),
]);
process.stdout.write("\n" + JSON.stringify(results) + "\n");
