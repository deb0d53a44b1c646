import type { z } from 'zod';
import type { TokenRole } from '../registry/types.ts';

/**
 * What a middleware tells about the route it guards, read back by the OpenAPI generator (openapi/document.ts)
 * from the app's own route list: the request schemas in the document are the objects that validate requests.
 */
export interface HandlerMeta {
  /** Roles admitted; an empty list admits every valid token. */
  roles?: readonly TokenRole[];
  /** The zod schema of one request part. */
  request?: { part: 'json' | 'query' | 'param' | 'header' | 'form' | 'cookie'; schema: z.ZodType };
  /** Byte cap of a JSON body. */
  bodyLimit?: number;
}

const metas = new WeakMap<object, HandlerMeta>();

/** Remembers `meta` for `handler` and returns the handler unchanged. */
export function withMeta<H extends object>(handler: H, meta: HandlerMeta): H {
  metas.set(handler, meta);
  return handler;
}

export const metaOf = (handler: object): HandlerMeta | undefined => metas.get(handler);
