import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMITS, JsonDepthScanner, MAX_JSON_DEPTH } from '../../src/api/json-body.ts';
import { MAX_CHECK_TARGETS } from '../../src/api/schemas.ts';
import { expectError, expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// Per-route body caps sized to the largest valid request, and the nesting limit checked before parsing.

let t: TestHub;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t?.close());

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('request body limits', () => {
  it('takes the largest valid /v1/check (1000 targets of 2048 characters) and refuses one byte past its cap', async () => {
    const long = (i: number) => `https://example.com/${String(i).padStart(4, '0')}${'a'.repeat(2048 - 24)}`;
    const targets = Array.from({ length: MAX_CHECK_TARGETS }, (_, i) => long(i));
    expect(targets[0]?.length).toBe(2048);
    const ok = await t.call('POST', '/v1/check', { as: 'distributor', json: { targets } });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(MAX_CHECK_TARGETS);

    const over = `{"targets":["a.example"],"pad":"${'x'.repeat(BODY_LIMITS.check)}"}`;
    const r = await t.call('POST', '/v1/check', {
      as: 'distributor',
      body: over,
      headers: { 'content-type': 'application/json' },
    });
    expectError(r, 413, 'payload_too_large');
    expect(r.body.error.message).toContain(String(BODY_LIMITS.check));
  });

  it('refuses small-route bodies past 16 KiB and changes nothing', async () => {
    const reason = 'r'.repeat(BODY_LIMITS.small);
    await expectRefused(
      t,
      () => t.call('POST', '/v1/tokens', { as: 'admin', json: { role: 'auditor', name: 'n', reason } }),
      413,
      'payload_too_large',
    );
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} with json_too_deep before parsing`, async () => {
    const headers = { 'content-type': 'application/json' };
    const deep = `{"targets":${nested(MAX_JSON_DEPTH)}}`;
    const r = await t.call('POST', '/v1/check', { as: 'distributor', body: deep, headers });
    expectError(r, 400, 'json_too_deep');
    const order = await expectRefused(
      t,
      () => t.call('POST', '/v1/orders', { as: 'regulator', body: nested(100_000), headers }),
      400,
      'json_too_deep',
    );
    expect(order.body.error.message).toContain(String(MAX_JSON_DEPTH));
    // Brackets inside strings are text, not nesting.
    const inString = await t.call('POST', '/v1/check', {
      as: 'distributor',
      json: { targets: [`https://a.example/${'['.repeat(50)}"\\`] },
    });
    expect(inString.status).toBe(200);
  });
});

describe('JsonDepthScanner', () => {
  it('follows strings and escapes across chunk boundaries', () => {
    const bytes = new TextEncoder().encode(`{"a":"\\"[[[[[[[[[[","b":[[1]]}`);
    const scanner = new JsonDepthScanner(3);
    for (let i = 0; i < bytes.length; i++) expect(scanner.push(bytes.subarray(i, i + 1))).toBe(true);
    const deep = new JsonDepthScanner(3);
    expect(deep.push(new TextEncoder().encode('{"a":[[['))).toBe(false);
  });
});
