import { hubConfigFromEnv, loadHubConfig } from '../hub/config.ts';
import { startHub } from '../hub/hub.ts';
import { type Command, parseFlags } from './command.ts';
import { runAgainWith, tunedEnvironment } from './malloc-tuning.ts';

export const serve: Command = {
  name: 'serve',
  summary: 'run the hub (HTTP API, feeds) on the embedded SQLite registry',
  usage:
    'serve [--host 127.0.0.1] [--port 8787] [--data ./data] [--rpz-port PORT]\n' +
    '  environment: TAKEDOWN_HOST, TAKEDOWN_PORT, TAKEDOWN_DATA, TAKEDOWN_ADMIN_TOKEN (first admin token),\n' +
    '  TAKEDOWN_SIGNING_KEY (PKCS8 base64; default data/keys/signing.key, created on first start)\n' +
    '  --rpz-port serves the dns feed as the RPZ zone rpz.takedown. over DNS (AXFR/IXFR, NOTIFY, TSIG):\n' +
    '  TAKEDOWN_RPZ_TSIG=name:base64secret,..  TAKEDOWN_RPZ_ALLOW=CIDR,..  TAKEDOWN_RPZ_NOTIFY=IP:PORT,..  TAKEDOWN_RPZ_PIECE_RECORDS=N\n' +
    '  (without keys or an allow list, transfers are allowed from loopback only)',
  async run(argv) {
    const tuned = tunedEnvironment(process.env);
    if (tuned) return runAgainWith(tuned);
    const { values } = parseFlags(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      'rpz-port': { type: 'string' },
    });
    const env = hubConfigFromEnv(process.env);
    const config = loadHubConfig({
      ...env,
      ...(values.host !== undefined && { host: values.host }),
      ...(values.port !== undefined && { port: values.port }),
      ...(values.data !== undefined && { dataDir: values.data }),
      ...(values['rpz-port'] !== undefined && { rpzPort: values['rpz-port'] }),
    });
    const hub = await startHub(config);
    // Handlers first: whoever reads the listening line may send SIGTERM at once and expects a clean stop.
    // `on`, not `once`: run again by malloc-tuning.ts under a service manager that signals the whole group, the
    // hub gets SIGTERM twice, and the second must not end it before its clean stop.
    const stopped = new Promise<void>((resolve) => {
      process.on('SIGINT', () => resolve());
      process.on('SIGTERM', () => resolve());
    });
    // A token the operator supplied is not echoed: it would only end up in logs.
    if (hub.firstAdminToken && config.adminToken) {
      console.log('first start: admin token taken from TAKEDOWN_ADMIN_TOKEN');
    } else if (hub.firstAdminToken) {
      console.log(`first start: admin token (shown once, keep it safe):\n  ${hub.firstAdminToken}`);
    }
    if (hub.rpz)
      console.log(`rpz zone rpz.takedown. served over DNS on ${hub.rpz.host}:${hub.rpz.port} (udp+tcp)`);
    console.log(
      `takedown hub listening on ${hub.url} (data ${config.dataDir}, registry version ${hub.registry.currentVersion()})`,
    );
    await stopped;
    await hub.close();
    return 0;
  },
};
