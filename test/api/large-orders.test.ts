import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerOrder, parseOrderBody } from '../../src/api/order-answer.ts';
import { DEFAULT_CONFIDENTIAL_CATEGORIES } from '../../src/core/types.ts';
import { expectRefused, type TestHub, testApp } from '../helpers/hub.ts';

// POST /v1/orders with a large body: parsed, validated, screened, written and answered in a worker thread
// (src/api/order-thread.ts), with the answers of the inline route.

const TARGETS = 5000;
const names = (prefix: string, n = TARGETS) => Array.from({ length: n }, (_, i) => `${prefix}-${i}.example`);
const order = (targets: unknown[], extra: Record<string, unknown> = {}) => ({
  reference: 'LARGE/1',
  authority: 'Authority of Information Security',
  category: 'phishing',
  targets,
  ...extra,
});

let t: TestHub;
beforeEach(async () => {
  t = await testApp({ config: { approvalMaxTargets: 100_000 } });
});
afterEach(() => t.close());

const post = (body: unknown, query = '') =>
  t.call('POST', `/v1/orders${query}`, { as: 'regulator', json: body });

/** Counts turns of the event loop until stopped: what a /healthz timer beside the request would get. */
function loopTicker(): () => number {
  let ticks = 0;
  let running = true;
  const tick = () => {
    ticks++;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  return () => {
    running = false;
    return ticks;
  };
}

describe('a large order body', () => {
  it('answers 400 naming the one target of thousands that is not a string, and writes nothing', async () => {
    const targets: unknown[] = names('bad-type');
    targets[3210] = 42;
    const r = await expectRefused(t, () => post(order(targets)), 400, 'invalid_request');
    expect(r.body.error.details).toEqual([
      { field: 'targets.3210', in: 'body', reason: expect.stringMatching(/string/), code: 'invalid_type' },
    ]);
    expect(r.body.error.message).toMatch(/^targets\.3210: /);
  });

  it('answers 400 for a target past the wire limit and for an unknown field, naming each', async () => {
    const targets = names('too-long');
    targets[4999] = `${'a'.repeat(4097)}.example`;
    const long = await expectRefused(t, () => post(order(targets)), 400, 'invalid_request');
    expect(long.body.error.details).toMatchObject([{ field: 'targets.4999', in: 'body', code: 'too_big' }]);
    const unknown = await expectRefused(
      t,
      () => post(order(names('x'), { colour: 'red' })),
      400,
      'invalid_request',
    );
    expect(unknown.body.error.details).toMatchObject([{ field: '(body)', code: 'unrecognized_keys' }]);
  });

  it('answers 400 malformed_json for a large body that does not parse', async () => {
    const text = JSON.stringify(order(names('cut'))).slice(0, -3);
    expect(text.length).toBeGreaterThan(64 * 1024);
    await expectRefused(
      t,
      () =>
        t.call('POST', '/v1/orders', {
          as: 'regulator',
          body: text,
          headers: { 'content-type': 'application/json' },
        }),
      400,
      'malformed_json',
    );
  });

  it('refuses the whole order with 422 and every result when one target trips a rail', async () => {
    const targets = names('rail');
    targets[17] = 'com';
    const r = await expectRefused(t, () => post(order(targets)), 422, 'targets_rejected');
    expect(r.body.error.details).toHaveLength(TARGETS);
    expect(r.body.error.details[17]).toMatchObject({
      target: 'com',
      status: 'rejected',
      code: 'public_suffix',
    });
    expect(r.body.error.details[18]).toMatchObject({ target: 'rail-18.example', status: 'accepted' });
  });

  it('writes it as one version, answers 201 with every result, and the loop keeps turning meanwhile', async () => {
    const ticks = loopTicker();
    const r = await post(order(names('ok')));
    const turned = ticks();
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ version: 1, counts: { added: TARGETS, rejected: 0 } });
    expect(r.body.results).toHaveLength(TARGETS);
    expect(r.body.results[4321]).toEqual({
      target: 'ok-4321.example',
      kind: 'domain',
      expression: 'ok-4321.example/',
      status: 'added',
    });
    expect(await t.version()).toBe(1);
    expect(t.logs.filter((l) => l.event === 'order_created')).toMatchObject([
      { version: 1, targets: TARGETS },
    ]);
    expect(turned).toBeGreaterThan(1);
    const explain = await t.call('GET', '/v1/explain?target=http://ok-4321.example/', { as: 'auditor' });
    expect(explain.body.blocked).toBe(true);
  });

  it('answers a dry run exactly as the inline route would, writing nothing', async () => {
    expect((await post(order(['taken-7.example']))).status).toBe(201);
    const body = order([...names('dry'), 'taken-7.example', 'dry-1.example']);
    const r = await post(body, '?dryRun=true');
    expect(r.status).toBe(200);
    expect(await t.version()).toBe(1);
    const inline = answerOrder(
      t.hub.registry,
      parseOrderBody(JSON.stringify(body)),
      'unused',
      true,
      DEFAULT_CONFIDENTIAL_CATEGORIES,
    );
    expect(r.body).toEqual(JSON.parse(JSON.stringify(inline.body)));
    expect(r.body.counts).toMatchObject({ added: TARGETS, alreadyActive: 1, duplicate: 1 });
  });
});
