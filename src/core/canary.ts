/**
 * Canaries: one DNS name per registry version that only a resolver enforcing the takedown policy answers,
 * and answers with the version it enforces (docs/DECISIONS.md, "Probes"). The policy zone carries, beside its
 * entries, `v<version>.canary.takedown` and `*.canary.takedown` as TXT `"takedown-canary v=<version>"`, so a
 * probe asking for `v<current>.canary.takedown` learns from one answer which version the resolver holds:
 * the current one, an older one (the wildcard of an older zone answers), or none at all (a resolver without
 * the policy gets the root's NXDOMAIN for the unused `takedown.` TLD). A fresh name per version keeps a
 * cached answer of an earlier round from standing in for the resolver's present state.
 */

/** The domain canaries live under: not a delegated TLD, so no real name can collide with it. */
export const CANARY_DOMAIN = 'canary.takedown';

const CANARY_TEXT = /^takedown-canary v=(\d{1,15})$/;

/** The name a probe asks (TXT) to learn which version a resolver enforces. */
export const canaryName = (version: number): string => `v${version}.${CANARY_DOMAIN}`;

/** The TXT string a resolver enforcing `version` answers. */
export const canaryText = (version: number): string => `takedown-canary v=${version}`;

/** The version a canary TXT string carries, or undefined when the string is no canary answer. */
export function parseCanaryText(text: string): number | undefined {
  const match = CANARY_TEXT.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A canary record in zone-file form: owner relative to the policy zone's origin, TXT data quoted. */
export interface CanaryRecord {
  name: string;
  type: 'TXT';
  data: string;
}

/** The policy-zone records of `version`'s canary: the versioned name and the wildcard older probes hit. */
export function canaryRecords(version: number | bigint): CanaryRecord[] {
  const data = `"${canaryText(Number(version))}"`;
  return [
    { name: `v${version}.${CANARY_DOMAIN}`, type: 'TXT', data },
    { name: `*.${CANARY_DOMAIN}`, type: 'TXT', data },
  ];
}
