import { HubClient } from '../../src/core/hub-client.ts';
import { serveOnLoopback, stallAfterHeaders } from '../helpers/hostile-http.ts';

// Run by hub-client.test.ts in a child started with --expose-gc: a request with a caller's signal to a hub
// that stalls after the headers, while the collector runs every 20 ms. Prints the outcome as JSON, or
// "hung" when the client's deadline never fired.

const hub = await serveOnLoopback((_, res) => stallAfterHeaders(res));
const client = new HubClient({ hub: hub.url, token: null, maxBytes: 1 << 20, timeoutMs: 300 });
const collect = setInterval(() => (globalThis as { gc?: () => void }).gc?.(), 20);
const caller = new AbortController();
const outcome = await Promise.race([
  client.snapshot('dns', { signal: caller.signal }),
  new Promise((resolve) => setTimeout(() => resolve('hung'), 5000)),
]);
clearInterval(collect);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await hub.close();
