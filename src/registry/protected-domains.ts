/** The protected-domain safety rail: names that must never be listed without an explicit, audited override. */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalHost } from '../core/host.ts';

/** The list shipped with the project (`data/protected-domains.txt`). */
export const DEFAULT_PROTECTED_DOMAINS_FILE = fileURLToPath(
  new URL('../../data/protected-domains.txt', import.meta.url),
);

/** A protected-domain list line that is not a host name; the message names the line. */
export class ProtectedDomainsError extends Error {
  override name = 'ProtectedDomainsError';
}

/** A set of protected names; each protects itself and all its sub-domains. */
export class ProtectedDomains {
  private constructor(private readonly names: ReadonlySet<string>) {}

  /** One name per line (any case, IDN or punycode); `#` starts a comment; blank lines are ignored. */
  static parse(text: string, source = 'protected domains'): ProtectedDomains {
    const names = new Set<string>();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).replace(/#.*/, '').trim();
      if (line === '') continue;
      const host = canonicalHost(line);
      if (!host.ok) {
        throw new ProtectedDomainsError(
          `${source} line ${i + 1}: '${line}' is not a host name (${host.error.message})`,
        );
      }
      names.add(host.value);
    }
    return new ProtectedDomains(names);
  }

  static fromFile(file: string = DEFAULT_PROTECTED_DOMAINS_FILE): ProtectedDomains {
    return ProtectedDomains.parse(readFileSync(file, 'utf8'), file);
  }

  static of(names: readonly string[]): ProtectedDomains {
    return ProtectedDomains.parse(names.join('\n'));
  }

  get size(): number {
    return this.names.size;
  }

  /** The protected name covering a canonical host (the host itself or a parent), or null. */
  covering(host: string): string | null {
    if (this.names.size === 0) return null;
    if (this.names.has(host)) return host;
    for (let i = host.indexOf('.'); i !== -1; i = host.indexOf('.', i + 1)) {
      const parent = host.slice(i + 1);
      if (this.names.has(parent)) return parent;
    }
    return null;
  }
}
