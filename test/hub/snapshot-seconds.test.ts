import { describe, expect, it } from 'vitest';
import { hubConfigFromEnv, loadHubConfig } from '../../src/hub/config.ts';

describe('TAKEDOWN_SNAPSHOT_SECONDS', () => {
  const config = (value?: string) =>
    loadHubConfig({
      ...hubConfigFromEnv(value === undefined ? {} : { TAKEDOWN_SNAPSHOT_SECONDS: value }),
      dataDir: 'unused',
    });

  it('sets how soon new snapshots follow a change, and is absent by default', () => {
    expect(config('20').snapshotSeconds).toBe(20);
    expect(config().snapshotSeconds).toBeUndefined();
  });

  it.each(['0', '-5', '1.5', 'soon'])('refuses %s, naming the setting', (value) => {
    expect(() => config(value)).toThrow(/snapshotSeconds/);
  });
});
