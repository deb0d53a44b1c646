import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from './errors.ts';
import { withMeta } from './route-meta.ts';

// A JSON body is read under a per-route byte cap and its nesting checked by a cheap scan of the bytes as they
// arrive, before JSON.parse sees them: a 10 MB `[[[[...` costs JSON.parse (and whatever walks the result)
// seconds of a single-threaded event loop, while the scan stops at the first bracket past the limit. The caps are sized to each route's
// largest valid request (docs/DECISIONS.md); the deepest valid body nests 3 levels.

/** Deepest nesting of objects and arrays any route accepts, with room to spare. */
export const MAX_JSON_DEPTH = 8;

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Byte caps per route. A target is at most 4096 characters on the wire, and canonicalization refuses past 2048
 * characters: 4 KiB per target holds any target that can be valid even at 2 bytes of UTF-8 per character.
 */
export const BODY_LIMITS = {
  /** `POST /v1/check`: 1000 targets of 4 KiB, plus the envelope. */
  check: 1000 * 4 * KIB + 4 * KIB,
  /** `POST /v1/feeds/filter/confirm`: 1000 keys of at most 16 digits, plus the widths. */
  confirm: 32 * KIB,
  /** `POST /v1/distributors/report`: 50 outputs of a 1024-character path and a 40-character format. */
  report: 64 * KIB,
  /** `POST /v1/probes/results`: 500 signed observations, each a 16 KiB raw answer, a 4 KiB expression and fields. */
  probeResults: 500 * 22 * KIB,
  /** Revoke and extend an order, revoke an entry, mint a token: a 4 KiB target and a 2000-character reason. */
  small: 16 * KIB,
} as const;

/** `POST /v1/orders` takes the hub's configured `bodyLimit` (default 32 MiB, about 100 000 targets of 300 bytes). */
export const DEFAULT_ORDER_BODY_LIMIT = 32 * MIB;

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Tracks the nesting of JSON text fed to it in UTF-8 chunks as they arrive, so a hostile body is refused at its
 * first bytes instead of after buffering all of it. Works on bytes: the characters it looks at are ASCII, and no
 * byte of a multi-byte UTF-8 sequence is below 0x80.
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly max: number) {}

  /** Scans the next chunk; false once the nesting went deeper than `max`. */
  push(bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
      } else if (byte === QUOTE) this.inString = true;
      else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
        if (++this.depth > this.max) return false;
      } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) this.depth--;
    }
    return true;
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const tooLarge = (limit: number) =>
  new ApiError(413, 'payload_too_large', `request body exceeds ${limit} bytes for this route`);
const tooDeep = () =>
  new ApiError(400, 'json_too_deep', `request body nests arrays or objects deeper than ${MAX_JSON_DEPTH}`);

/**
 * The body as text, refused as soon as the declared length or the bytes read pass `limit` (413) or the nesting
 * passes MAX_JSON_DEPTH (400): a hostile body costs what arrived before that, not its whole size.
 */
async function readChecked(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const scanner = new JsonDepthScanner(MAX_JSON_DEPTH);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    const refusal = !scanner.push(value) ? tooDeep() : size > limit ? tooLarge(limit) : undefined;
    if (refusal) {
      await reader.cancel();
      throw refusal;
    }
    chunks.push(value);
  }
  try {
    return strictUtf8.decode(Buffer.concat(chunks, size));
  } catch {
    // A lenient decoder would store U+FFFD in a reason or a target in place of what the client sent.
    throw new ApiError(400, 'invalid_utf8', 'request body is not valid UTF-8; nothing was stored', [
      { field: '(body)', in: 'body', reason: 'bytes that are not UTF-8' },
    ]);
  }
}

/**
 * The body of a JSON request as text, refused when it is not `application/json` (415), larger than `limit`
 * bytes (413), nested deeper than MAX_JSON_DEPTH (400 `json_too_deep`) or not UTF-8 (400 `invalid_utf8`).
 */
export async function jsonText(c: Context, limit: number): Promise<string> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', `content-type must be application/json, got "${type}"`);
  }
  return readChecked(c.req.raw, limit);
}

/** JSON text as a value, or 400 `malformed_json`. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'malformed_json', 'request body is not valid JSON');
  }
}

/**
 * Refuses what `jsonText` refuses and a body that does not parse (400 `malformed_json`); the parsed body is left
 * where `c.req.json()` (and so the validator) finds it.
 */
export function jsonBody(limit: number): MiddlewareHandler {
  return withMeta<MiddlewareHandler>(
    async (c, next) => {
      const parsed = parseJson(await jsonText(c, limit));
      // The stream is spent: Hono's body cache (which holds promises) is where `c.req.json()` looks next.
      c.req.bodyCache.json = Promise.resolve(parsed);
      await next();
    },
    { bodyLimit: limit },
  );
}
