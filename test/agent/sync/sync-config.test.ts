import { describe, expect, it } from 'vitest';
import {
  hostPort,
  pairReloads,
  resolveSyncConfig,
  SYNC_DEFAULTS,
  SyncConfigError,
} from '../../../src/agent/sync/sync-config.ts';
import { sync } from '../../../src/cli/sync.ts';

const base = {
  hub: 'https://hub.example',
  token: 'tdk_x',
  feed: 'dns',
  key: '/etc/takedown/hub.pub',
  state: '/var/lib/takedown',
  output: ['rpz=/etc/unbound/takedown.rpz'],
};

describe('pairReloads', () => {
  it('pairs plain commands with the outputs in order; an empty one means no reload', () => {
    expect(pairReloads(['rpz=/a', 'hosts=/b'], ['rndc reload', ''])).toEqual([
      { format: 'rpz', path: '/a', reload: 'rndc reload' },
      { format: 'hosts', path: '/b' },
    ]);
  });

  it('gives a FORMAT=CMD command to every output of that format, keeping "=" inside the command', () => {
    expect(pairReloads(['rpz=/a', 'rpz=/b', 'hosts=/c'], ['rpz=sh -c "X=1 reload"'])).toEqual([
      { format: 'rpz', path: '/a', reload: 'sh -c "X=1 reload"' },
      { format: 'rpz', path: '/b', reload: 'sh -c "X=1 reload"' },
      { format: 'hosts', path: '/c' },
    ]);
  });

  it('refuses a count that does not pair, mixed forms, a format without output and a bad spec', () => {
    expect(() => pairReloads(['rpz=/a', 'hosts=/b'], ['x'])).toThrow('1 --reload for 2 --output');
    expect(() => pairReloads(['rpz=/a', 'hosts=/b'], ['rpz=x', 'y'])).toThrow('do not mix');
    expect(() => pairReloads(['rpz=/a'], ['squid=x'])).toThrow('no --output of format squid');
    expect(() => pairReloads(['rpz=/a'], ['rpz=x', 'rpz=y'])).toThrow('two commands for format rpz');
    expect(() => pairReloads(['bind=/a'], [])).toThrow(SyncConfigError);
  });
});

describe('resolveSyncConfig', () => {
  it('fills the defaults', () => {
    const config = resolveSyncConfig({ flags: base, env: {} });
    expect(config).toMatchObject({
      feed: 'dns',
      once: false,
      waitSeconds: 30,
      intervalSeconds: 10,
      maxBackoffSeconds: 300,
      reloadTimeoutSeconds: 30,
      notify: [],
      outputs: [{ format: 'rpz', path: '/etc/unbound/takedown.rpz' }],
    });
    expect(config.render.zone).toBe('rpz.takedown.');
    expect(config.metrics).toBeUndefined();
  });

  it('takes every default from SYNC_DEFAULTS, and the help text prints those same values', () => {
    const config = resolveSyncConfig({ flags: { ...base, 'metrics-port': '9100' }, env: {} });
    expect(config).toMatchObject({
      once: SYNC_DEFAULTS.once,
      waitSeconds: SYNC_DEFAULTS.wait,
      intervalSeconds: SYNC_DEFAULTS.interval,
      maxBackoffSeconds: SYNC_DEFAULTS['max-backoff'],
      reloadTimeoutSeconds: SYNC_DEFAULTS['reload-timeout'],
      maxBytes: SYNC_DEFAULTS['max-bytes'],
      metrics: { host: SYNC_DEFAULTS['metrics-host'], port: 9100 },
    });
    for (const [flag, value] of Object.entries(SYNC_DEFAULTS)) {
      if (typeof value === 'boolean') continue;
      const line = sync.usage.split('\n').find((l) => l.trimStart().startsWith(`--${flag} `));
      expect(line, `--${flag} in the help text`).toBeDefined();
      expect(line).toContain(`(default ${value}`);
    }
  });

  it('lets flags win over the environment and the environment over the file; file paths are relative to it', () => {
    const config = resolveSyncConfig({
      file: {
        dir: '/etc/takedown',
        values: {
          ...base,
          hub: 'https://file.example',
          token: 'tdk_file',
          key: 'hub.pub',
          state: 'state',
          output: ['rpz=zones/t.rpz'],
          wait: 5,
          render: { zone: 'rpz.isp.example' },
        },
      },
      flags: { wait: '12' },
      env: { TAKEDOWN_TOKEN: 'tdk_env', TAKEDOWN_HUB: 'https://env.example' },
    });
    expect(config).toMatchObject({
      hub: 'https://env.example',
      token: 'tdk_env',
      keyFile: '/etc/takedown/hub.pub',
      stateDir: '/etc/takedown/state',
      outputs: [{ format: 'rpz', path: '/etc/takedown/zones/t.rpz' }],
      waitSeconds: 12,
    });
    expect(config.render.zone).toBe('rpz.isp.example.');
  });

  it('takes the feed from a mirror without a hub or a token; a hub given beside it still needs its token', () => {
    const { hub: _, token: __, ...noHub } = base;
    const mirror = 'https://feeds.example/takedown/';
    const config = resolveSyncConfig({ flags: { ...noHub, mirror }, env: {} });
    expect(config).toMatchObject({ mirror, feed: 'dns' });
    expect(config).not.toHaveProperty('hub');
    expect(config).not.toHaveProperty('token');
    expect(resolveSyncConfig({ flags: { ...base, mirror }, env: {} })).toMatchObject({
      mirror,
      hub: base.hub,
      token: base.token,
    });
    expect(() => resolveSyncConfig({ flags: { ...noHub, mirror, hub: base.hub }, env: {} })).toThrow(
      'missing --token',
    );
    expect(() => resolveSyncConfig({ flags: { ...noHub, mirror: 'ftp://x' }, env: {} })).toThrow(
      'flags: mirror',
    );
  });

  it('names what is missing or wrong', () => {
    expect(() => resolveSyncConfig({ flags: { feed: 'dns' }, env: {} })).toThrow(
      'missing --hub, --token, --key, --state',
    );
    expect(() => resolveSyncConfig({ flags: { ...base, feed: 'filter' }, env: {} })).toThrow('flags: feed');
    expect(() => resolveSyncConfig({ flags: { ...base, wait: '61' }, env: {} })).toThrow('flags: wait');
    expect(() => resolveSyncConfig({ flags: { ...base, hub: 'ftp://x' }, env: {} })).toThrow('flags: hub');
    expect(() => resolveSyncConfig({ flags: { ...base, hub: 'https://hub.example/v1/' }, env: {} })).toThrow(
      "--hub https://hub.example/v1/: give the hub's base URL without /v1/, e.g. https://hub.example/",
    );
    expect(() =>
      resolveSyncConfig({ flags: { ...base, hub: 'https://x.example/takedown/v1/feeds' }, env: {} }),
    ).toThrow('e.g. https://x.example/takedown');
    expect(resolveSyncConfig({ flags: { ...base, hub: 'https://x.example/takedown/' }, env: {} }).hub).toBe(
      'https://x.example/takedown/',
    );
    expect(() =>
      resolveSyncConfig({ file: { dir: '/', values: { colour: 'red' } }, flags: base, env: {} }),
    ).toThrow('config file');
    expect(() => resolveSyncConfig({ flags: { ...base, output: [] }, env: {} })).toThrow(
      'at least one --output',
    );
    expect(() => resolveSyncConfig({ flags: { ...base, notify: ['127.0.0.1:53'] }, env: {} })).toThrow(
      '--notify needs --serve-rpz',
    );
    expect(() =>
      resolveSyncConfig({ file: { dir: '/', values: { render: { ttl: -1 } } }, flags: base, env: {} }),
    ).toThrow('render.ttl');
    expect(() => resolveSyncConfig({ flags: { ...base, 'rpz-piece-records': '0' }, env: {} })).toThrow(
      '--rpz-piece-records needs --serve-rpz',
    );
    const served = { ...base, 'serve-rpz': '127.0.0.1:5300' };
    expect(() => resolveSyncConfig({ flags: { ...served, 'rpz-piece-records': '-1' }, env: {} })).toThrow(
      'rpz-piece-records',
    );
    expect(
      resolveSyncConfig({ flags: { ...served, 'rpz-piece-records': '0' }, env: {} }).rpzPieceRecords,
    ).toBe(0);
  });
});

describe('hostPort', () => {
  it('reads IPv4 and bracketed IPv6 addresses with a port', () => {
    expect(hostPort('--serve-rpz', '127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(hostPort('--serve-rpz', '[::1]:53')).toEqual({ host: '::1', port: 53 });
    expect(() => hostPort('--serve-rpz', 'localhost:53')).toThrow('is not IP:PORT');
    expect(() => hostPort('--serve-rpz', '127.0.0.1:70000')).toThrow('is not IP:PORT');
  });
});
