/** A regulator's target (a host name or a URL) as one registry entry (docs/ARCHITECTURE.md: entries and matching). */

import { checkHostName, hostInfo } from './host.ts';
import type { EntryKind, Result } from './types.ts';
import { fail, ok } from './types.ts';
import { canonicalizeUrl } from './url.ts';

export interface Target {
  input: string;
  kind: EntryKind;
  expression: string;
  host: string;
  canonicalUrl: string;
  isIp: boolean;
  publicSuffix: string | null;
  registrableDomain: string | null;
}

/** Regulators' URLs are links, and links longer than this are not worth an entry. */
const MAX_TARGET_LENGTH = 2048;

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}

/**
 * A regulator's target: a bare host name (`evil.example`, `EVIL.example.`, an IDN) -> kind `domain`, expression `host/`;
 * a URL (with or without scheme) -> canonicalized; when its canonical form is the bare host (path `/`, no query) it is a `domain` entry
 * (expression `host/`), else a `url` entry with the Safe Browsing expression `host/path[?query]`. canonicalUrl is the SB canonical URL with
 * scheme (`http://name/` for a bare domain). Errors: codes like `empty`, `too_long` (input > 2048 chars), `invalid_host`, `label_too_long`,
 * `name_too_long`, `invalid_character`, `unsupported_scheme` (only http/https/none), with a message naming the bad part.
 */
export function parseTarget(input: string): Result<Target> {
  try {
    if (input.length > MAX_TARGET_LENGTH) {
      return fail(
        'too_long',
        `target of ${input.length} characters is longer than ${MAX_TARGET_LENGTH}: '${clip(input)}'`,
      );
    }
    if (input.trim().length === 0) return fail('empty', 'target is empty');
    const c = canonicalizeUrl(input);
    if (!c.ok) return c;
    const url = c.value;
    const checked = checkHostName(url.host, url.isIp);
    if (!checked.ok) return checked;
    const info = hostInfo(url.host);
    const isDomain = url.path === '/' && !url.query;
    const expression = isDomain ? `${url.host}/` : url.expression;
    return ok({
      input,
      kind: isDomain ? 'domain' : 'url',
      expression,
      host: url.host,
      canonicalUrl: `${url.scheme}://${expression}`,
      isIp: url.isIp,
      publicSuffix: info.publicSuffix,
      registrableDomain: info.registrableDomain,
    });
  } catch (e) {
    return fail('invalid_target', `cannot parse target '${clip(String(input))}': ${String(e)}`);
  }
}
