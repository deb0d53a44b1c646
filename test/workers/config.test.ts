import { describe, expect, it } from 'vitest';
import { exportPublicKey, generateSigningKey } from '../../src/core/keys.ts';
import { fallbackOf, parseEdgeEnv } from '../../workers/edge/config.ts';

const key = exportPublicKey((await generateSigningKey()).publicKey);
const other = exportPublicKey((await generateSigningKey()).publicKey);
const BASE = { TRUSTED_KEYS: key, BLOCKED_BY: 'https://isp.example/legal', HUB_URL: 'http://127.0.0.1:8787' };

describe('parseEdgeEnv', () => {
  it('parses the wrangler vars with their defaults', async () => {
    const config = await parseEdgeEnv({ ...BASE, TRUSTED_KEYS: ` ${key}, ${other} `, HUB_TOKEN: ' tdk_x ' });
    expect(config.ok).toBe(true);
    if (!config.ok) return;
    expect(config.value).toMatchObject({
      failMode: 'closed',
      blockedBy: 'https://isp.example/legal',
      appealUrl: 'https://isp.example/legal',
      hubToken: 'tdk_x',
      origin: null,
      refreshMs: 30_000,
      bucket: null,
    });
    expect(config.value.trustedKeys).toHaveLength(2);
    expect(config.value.hubUrl?.href).toBe('http://127.0.0.1:8787/');
  });

  it('names the variable that is missing or malformed', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ TRUSTED_KEYS: '' }, /TRUSTED_KEYS/],
      [{ TRUSTED_KEYS: 'bm90IGEga2V5' }, /TRUSTED_KEYS/],
      [{ FAIL_MODE: 'sometimes' }, /FAIL_MODE/],
      [{ BLOCKED_BY: '' }, /BLOCKED_BY/],
      [{ BLOCKED_BY: 'mailto:legal@isp.example' }, /BLOCKED_BY/],
      [{ HUB_URL: 'ftp://hub' }, /HUB_URL/],
      [{ HUB_URL: '' }, /neither HUB_URL nor the FEED_BUCKET/],
      [{ ORIGIN: 'not a url' }, /ORIGIN/],
      [{ REFRESH_SECONDS: '-1' }, /REFRESH_SECONDS/],
    ];
    for (const [change, message] of cases) {
      const config = await parseEdgeEnv({ ...BASE, ...change });
      expect(config.ok ? 'ok' : config.error.message).toMatch(message);
    }
  });

  it('keeps the fail mode and origin of a refused environment, closed unless it says open', () => {
    expect(fallbackOf({ FAIL_MODE: ' OPEN ', ORIGIN: 'http://127.0.0.1:9000' })).toEqual({
      failMode: 'open',
      origin: new URL('http://127.0.0.1:9000'),
    });
    expect(fallbackOf({ FAIL_MODE: 'sometimes', ORIGIN: 'nonsense' })).toEqual({
      failMode: 'closed',
      origin: null,
    });
  });
});
