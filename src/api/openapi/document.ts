import type { RouterRoute } from 'hono/types';
import { z } from 'zod';
import { type HandlerMeta, metaOf } from '../route-meta.ts';
import { errorResponse } from './responses.ts';
import { type AnswerDoc, consoleDoc, ROUTE_DOCS, type RouteDoc } from './route-docs.ts';

// The OpenAPI 3.1 document of a running app, built from its own route list: each route's middleware says which
// roles it admits, which zod schemas validate its parts and how large a body may be (route-meta.ts), and
// route-docs.ts adds what only a person can say. Nothing here repeats a request schema.

type Json = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect), without the `$schema` marker. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

/** Everything one route's handlers (and the wildcard middleware above it) tell about it. */
interface RouteFacts {
  method: string;
  path: string;
  roles?: readonly string[];
  requests: NonNullable<HandlerMeta['request']>[];
  bodyLimit?: number;
}

const covers = (wildcard: string, path: string) =>
  wildcard === '/*' || path === wildcard.slice(0, -2) || path.startsWith(wildcard.slice(0, -1));

/** The app's routes, one per method and path, in registration order. */
export function routeFacts(routes: readonly RouterRoute[]): RouteFacts[] {
  const wildcards = routes.filter((r) => r.method === 'ALL' && r.path.endsWith('/*'));
  const byKey = new Map<string, RouteFacts>();
  for (const route of routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    let facts = byKey.get(key);
    if (!facts) {
      facts = { method: route.method, path: route.path, requests: [] };
      for (const w of wildcards) if (covers(w.path, route.path)) merge(facts, metaOf(w.handler));
      byKey.set(key, facts);
    }
    merge(facts, metaOf(route.handler));
  }
  return [...byKey.values()];
}

function merge(facts: RouteFacts, meta: HandlerMeta | undefined): void {
  if (!meta) return;
  if (meta.roles) facts.roles = meta.roles;
  if (meta.request) facts.requests.push(meta.request);
  if (meta.bodyLimit !== undefined) facts.bodyLimit = meta.bodyLimit;
}

/** Errors every route of a kind answers with, from its middleware. */
function commonErrors(facts: RouteFacts): Record<number, string[]> {
  const errors: Record<number, string[]> = {};
  const add = (status: number, ...codes: string[]) => {
    errors[status] = [...new Set([...(errors[status] ?? []), ...codes])];
  };
  if (facts.requests.length > 0) add(400, 'invalid_request');
  if (facts.requests.some((r) => r.part === 'query')) add(400, 'invalid_utf8');
  if (facts.bodyLimit !== undefined) {
    add(400, 'malformed_json', 'json_too_deep', 'invalid_utf8');
    add(413, 'payload_too_large');
    add(415, 'unsupported_media_type');
  }
  if (facts.roles) add(401, 'unauthorized');
  if (facts.roles && facts.roles.length > 0) add(403, 'forbidden');
  return errors;
}

const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

function parameters(facts: RouteFacts): Json[] {
  const out: Json[] = [];
  const named = new Set<string>();
  for (const { part, schema } of facts.requests) {
    if (part !== 'query' && part !== 'param') continue;
    const js = jsonSchemaOf(schema, 'input');
    const props = (js.properties ?? {}) as Record<string, Json>;
    const required = new Set((js.required ?? []) as string[]);
    for (const [name, s] of Object.entries(props)) {
      const where = part === 'param' ? 'path' : 'query';
      if (where === 'path') named.add(name);
      const { description, ...rest } = s;
      out.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        schema: rest,
        ...(typeof description === 'string' ? { description } : {}),
      });
    }
  }
  for (const [, name] of facts.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    if (name && !named.has(name)) out.push({ name, in: 'path', required: true, schema: { type: 'string' } });
  }
  return out;
}

function answer(doc: AnswerDoc): Json {
  if (!doc.schema && !doc.media) return { description: doc.description };
  const media = doc.media ?? 'application/json';
  const content: Json = doc.schema ? { schema: jsonSchemaOf(doc.schema, 'output') } : {};
  if (doc.example !== undefined) content.example = doc.example;
  return { description: doc.description, content: { [media]: content } };
}

function errorAnswers(errors: Record<number, string[]>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [status, codes] of Object.entries(errors)) {
    out[status] = {
      description: `error codes: ${codes.join(', ')}`,
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/Error' },
          example: { error: { code: codes[0], message: '...' } },
        },
      },
      'x-error-codes': codes,
    };
  }
  return out;
}

function operation(facts: RouteFacts, doc: RouteDoc | undefined): Json {
  const errors = commonErrors(facts);
  for (const [status, codes] of Object.entries(doc?.errors ?? {})) {
    errors[Number(status)] = [...new Set([...(errors[Number(status)] ?? []), ...codes])];
  }
  const responses: Record<string, Json> = {};
  for (const [status, a] of Object.entries(doc?.answers ?? {})) responses[status] = answer(a);
  Object.assign(responses, errorAnswers(errors));
  if (Object.keys(responses).length === 0) responses.default = { description: 'undocumented' };

  const op: Json = {
    operationId: `${facts.method.toLowerCase()}${facts.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch?: string) => (ch ?? '').toUpperCase())}`,
    summary: doc?.summary ?? 'undocumented',
    tags: [doc?.tag ?? 'other'],
    responses,
  };
  const params = parameters(facts);
  if (params.length > 0) op.parameters = params;
  const body = facts.requests.find((r) => r.part === 'json');
  if (body) {
    const content: Json = { schema: jsonSchemaOf(body.schema, 'input') };
    if (doc?.requestExample !== undefined) content.example = doc.requestExample;
    op.requestBody = { required: true, content: { 'application/json': content } };
    if (facts.bodyLimit !== undefined) op['x-body-limit-bytes'] = facts.bodyLimit;
  }
  if (facts.roles) {
    op.security = [{ bearer: [] }];
    op['x-roles'] = facts.roles.length > 0 ? [...facts.roles] : ['any'];
  }
  return op;
}

/** The OpenAPI 3.1 document of the routes `routes` (an app's `routes`), with `docs` for what they do. */
export function openApiDocument(
  routes: readonly RouterRoute[],
  version: string,
  docs: Record<string, RouteDoc> = ROUTE_DOCS,
): Json {
  const paths: Record<string, Json> = {};
  for (const facts of routeFacts(routes)) {
    const path = openApiPath(facts.path);
    const doc =
      docs[`${facts.method} ${facts.path}`] ??
      (facts.path.startsWith('/console') ? consoleDoc(facts.method, facts.path) : undefined);
    paths[path] = { ...paths[path], [facts.method.toLowerCase()]: operation(facts, doc) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'takedown hub API',
      version,
      description:
        'Every error answers `{"error":{"code","message","details"?}}` with a stable snake_case code. ' +
        'Bearer tokens carry one role; `admin` passes every role check.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(errorResponse, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a takedown token (tdk_...)' },
      },
    },
  };
}
