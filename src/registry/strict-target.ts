/**
 * Strict checks on a regulator's target before canonicalization. Canonicalization follows browsers (it collapses
 * `bad..name` to `bad.name`, so a consumer matches what a browser visits), but a takedown order must block what
 * the regulator wrote: a typo is refused, not rewritten.
 */

import { domainToUnicode } from 'node:url';
import { canonicalHost } from '../core/host.ts';
import type { Failure } from '../core/types.ts';

const problem = (code: string, message: string): Failure => ({ code, message });

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const IDEOGRAPHIC_DOTS = /[\u3002\uff0e\uff61]/g;

/** The host part of a target as written (URL or bare name), or null when it has none to check (IPv6). */
function writtenHost(input: string): string | null {
  let s = input.trim();
  const scheme = SCHEME.exec(s);
  if (scheme) s = s.slice(scheme[0].length);
  const end = s.search(/[/?#\\]/);
  if (end >= 0) s = s.slice(0, end);
  s = s.slice(s.lastIndexOf('@') + 1);
  if (s.startsWith('[')) return null;
  const colon = s.lastIndexOf(':');
  if (colon >= 0) s = s.slice(0, colon);
  try {
    s = decodeURIComponent(s);
  } catch {
    // canonicalization reports a broken escape
  }
  return s.replace(IDEOGRAPHIC_DOTS, '.');
}

/**
 * A punycode label must decode, and UTS-46 processing of what it decodes to must give the label back:
 * `xn--zzzzzzzz` does not decode; `xn--ab-` decodes to `ab`, which is written `ab`.
 */
function punycodeProblem(label: string): Failure | null {
  const unicode = domainToUnicode(label);
  if (unicode === '') return problem('invalid_punycode', `label '${label}' is not valid punycode`);
  const again = canonicalHost(unicode);
  if (!again.ok || again.value !== label) {
    const as = again.ok ? `'${again.value}'` : 'nothing valid';
    return problem(
      'invalid_punycode',
      `label '${label}' decodes to '${unicode}', which UTS-46 writes as ${as}, not '${label}'`,
    );
  }
  return null;
}

/**
 * The first strict-input problem of a target, or null: `invalid_utf8` (U+FFFD, the mark of bytes that were not
 * UTF-8), `empty_label` (`bad..name`, `.bad.name`; one trailing dot is the absolute form and fine),
 * `invalid_punycode`. Everything else is left to canonicalization.
 */
export function strictTargetProblem(input: string): Failure | null {
  if (input.includes('\ufffd')) {
    return problem('invalid_utf8', 'the target holds U+FFFD: its bytes were not valid UTF-8');
  }
  const host = writtenHost(input);
  if (host === null || host === '') return null;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  if (labels.some((l) => l === '')) {
    return problem('empty_label', `host '${host}' has an empty label (two dots in a row, or a leading dot)`);
  }
  for (const label of labels) {
    const lower = label.toLowerCase();
    if (!lower.startsWith('xn--')) continue;
    const problem = punycodeProblem(lower);
    if (problem) return problem;
  }
  return null;
}
