/** @jsxImportSource hono/jsx */
import { Hono } from 'hono';
import type { RouterRoute } from 'hono/types';
import { openApiDocument } from './document.ts';
import { ReferencePage } from './reference-page.tsx';

/** The API version the document describes (the `/v1` of the paths). */
export const API_VERSION = '1';

/**
 * `GET /openapi.json` and `GET /docs`. `routes` is read at the first request, once every route of the app is
 * registered; the document is built once.
 */
export function openApiRoutes(routes: () => readonly RouterRoute[]) {
  let doc: Record<string, unknown> | undefined;
  const document = () => {
    doc ??= openApiDocument(routes(), API_VERSION);
    return doc;
  };
  return new Hono()
    .get('/openapi.json', (c) => c.json(document()))
    .get('/docs', (c) => {
      c.header('content-security-policy', "default-src 'none'; style-src 'self'");
      return c.html(
        `<!doctype html>${(<ReferencePage doc={document()} stylesheet="/console/static/console.css" />).toString()}`,
      );
    });
}
