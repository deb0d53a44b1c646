import { describe, expect, it } from 'vitest';
import { enforcementPoints } from '../../src/feeds/enforcement.ts';

describe('enforcementPoints', () => {
  it('a confidential entry is enforced by edge workers only, and says why', () => {
    const points = enforcementPoints(
      { host: 'secret.example', isIp: false },
      [{ expression: 'secret.example/', kind: 'domain', category: 'csam' }],
      ['csam'],
    );
    expect(points.map((p) => [p.point, p.blocked])).toEqual([
      ['edge', true],
      ['proxy', false],
      ['dns', false],
      ['hosts', false],
    ]);
    for (const p of points.slice(1)) expect(p.reason).toContain('published only in the hashed filter feed');
  });

  it('the same entry outside the confidential categories is enforced everywhere', () => {
    const points = enforcementPoints(
      { host: 'secret.example', isIp: false },
      [{ expression: 'secret.example/', kind: 'domain', category: 'csam' }],
      [],
    );
    expect(points.every((p) => p.blocked)).toBe(true);
  });
});
