import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { metaOf } from '../../src/api/route-meta.ts';
import { type TestHub, testApp } from '../helpers/hub.ts';

type Json = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: walking a JSON document
type Any = any;

let t: TestHub;
let doc: Any;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addFormat('date', /^\d{4}-\d\d-\d\d$/);

beforeAll(async () => {
  t = await testApp();
  const r = await t.call('GET', '/openapi.json');
  expect(r.status).toBe(200);
  doc = r.body;
  ajv.addSchema({ ...doc.components.schemas.Error, $id: 'error' });
});
afterAll(() => t.close());

const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const served = () => {
  const keys = new Set<string>();
  for (const r of t.hub.app.routes) if (r.method !== 'ALL') keys.add(`${r.method} ${r.path}`);
  return [...keys].map((k) => {
    const [method, path] = k.split(' ') as [string, string];
    return { method, path };
  });
};
const operations = () =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op: op as Any })),
  );
const schemaAt = (s: Json) => (s.$ref === '#/components/schemas/Error' ? { $ref: 'error' } : s);

describe('GET /openapi.json', () => {
  test('validates as OpenAPI 3.1', async () => {
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  test('every route the app serves is in it, with its answers and error codes', () => {
    const routes = served();
    expect(routes.length).toBeGreaterThan(40);
    for (const { method, path } of routes) {
      const op = doc.paths[openApiPath(path)]?.[method.toLowerCase()];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.summary, `${method} ${path}`).not.toBe('undocumented');
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => /^[23]/.test(s)),
        `${method} ${path} has a success answer`,
      ).toBe(true);
      for (const s of statuses.filter(
        (s) => /^[45]/.test(s) && op.responses[s].content?.['application/json'],
      )) {
        expect(op.responses[s]['x-error-codes'].length, `${method} ${path} ${s}`).toBeGreaterThan(0);
      }
    }
    // Nothing documented that is not served.
    const servedKeys = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`));
    for (const { path, method } of operations()) expect(servedKeys.has(`${method} ${path}`)).toBe(true);
  });

  test('request schemas are the validators of each route, and guarded routes name their roles and errors', () => {
    for (const { method, path } of served()) {
      const handlers = t.hub.app.routes.filter((r) => r.method === method && r.path === path);
      const parts = handlers.flatMap((h) => metaOf(h.handler)?.request?.part ?? []);
      const op = doc.paths[openApiPath(path)][method.toLowerCase()];
      const where = `${method} ${path}`;
      if (parts.includes('json')) {
        expect(op.requestBody.content['application/json'].schema.type, where).toBe('object');
        expect(op.responses['400']['x-error-codes'], where).toContain('invalid_request');
        expect(op.responses['413']['x-error-codes'], where).toEqual(['payload_too_large']);
      } else {
        expect(op.requestBody, where).toBeUndefined();
      }
      const inQuery = (op.parameters ?? []).filter((p: Any) => p.in === 'query');
      expect(inQuery.length > 0, where).toBe(parts.includes('query'));
      if (op['x-roles']) expect(op.responses['401']['x-error-codes'], where).toEqual(['unauthorized']);
    }
    const create = doc.paths['/v1/orders'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(
      expect.arrayContaining(['reference', 'authority', 'category', 'targets']),
    );
    expect(create.parameters.map((p: Any) => p.name)).toEqual(['dryRun']);
    expect(create['x-roles']).toEqual(['regulator']);
    expect(create.responses['422']['x-error-codes']).toContain('targets_rejected');
    expect(doc.paths['/v1/orders/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path' });
  });

  test('every example validates against its schema', () => {
    let examples = 0;
    for (const { path, method, op } of operations()) {
      const contents = [
        ...Object.values((op.requestBody?.content ?? {}) as Record<string, Any>),
        ...Object.values(op.responses as Record<string, Any>).flatMap((r) => Object.values(r.content ?? {})),
      ];
      for (const c of contents as Any[]) {
        if (c.example === undefined || !c.schema) continue;
        examples++;
        const check = ajv.compile(schemaAt(c.schema));
        expect(check(c.example), `${method} ${path}: ${ajv.errorsText(check.errors)}`).toBe(true);
      }
    }
    expect(examples).toBeGreaterThan(40);
  });

  test('real answers match the documented schemas', async () => {
    const conforms = async (method: string, path: string, reply: { status: number; body: unknown }) => {
      const template = Object.keys(doc.paths).find((p) =>
        new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path.split('?')[0] as string),
      ) as string;
      const answer = doc.paths[template][method.toLowerCase()].responses[String(reply.status)];
      expect(answer, `${method} ${path} ${reply.status} is documented`).toBeDefined();
      const check = ajv.compile(schemaAt(answer.content['application/json'].schema));
      expect(check(reply.body), `${method} ${path}: ${ajv.errorsText(check.errors)}`).toBe(true);
    };
    const order = {
      reference: 'OA-1',
      authority: 'MIC',
      category: 'phishing',
      targets: ['openapi-a.example', 'http://openapi-b.example/x'],
    };
    const steps: Array<[string, string, Parameters<TestHub['call']>[2]]> = [
      ['POST', '/v1/orders?dryRun=true', { as: 'regulator', json: order }],
      ['POST', '/v1/orders', { as: 'regulator', json: order }],
      ['POST', '/v1/orders', { as: 'regulator', json: { ...order, targets: ['com'] } }],
      ['GET', '/v1/orders', { as: 'auditor' }],
      ['GET', '/v1/orders/1', { as: 'auditor' }],
      ['GET', '/v1/entries?active=true', { as: 'auditor' }],
      ['GET', '/v1/explain?target=https://openapi-a.example/x', { as: 'regulator' }],
      ['POST', '/v1/check', { as: 'regulator', json: { targets: ['openapi-a.example'] } }],
      [
        'POST',
        '/v1/distributors/report',
        {
          as: 'distributor',
          json: { feed: 'dns', version: 1, appliedAt: new Date().toISOString(), outputs: [] },
        },
      ],
      ['GET', '/v1/distributors', { as: 'regulator' }],
      ['POST', '/v1/orders/1/revoke', { as: 'regulator', json: { reason: 'lifted' } }],
      ['GET', '/v1/audit', { as: 'auditor' }],
      ['GET', '/v1/audit/verify', { as: 'auditor' }],
      ['GET', '/v1/tokens', { as: 'admin' }],
      ['POST', '/v1/tokens', { as: 'admin', json: { role: 'auditor', name: 'oa' } }],
      ['GET', '/v1/tokens', { as: 'regulator' }],
      ['GET', '/v1/keys', {}],
      ['GET', '/healthz', {}],
    ];
    for (const [method, path, options] of steps)
      await conforms(method, path, await t.call(method, path, options));
  });
});

describe('GET /docs', () => {
  test('a readable page of every path, with no script and nothing from another origin', async () => {
    const r = await t.call('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    const page = r.body as string;
    for (const path of Object.keys(doc.paths)) expect(page).toContain(path.replace(/&/g, '&amp;'));
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
