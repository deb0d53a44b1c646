import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/util/prometheus.ts';

describe('Prometheus text exposition', () => {
  it('renders counters per label set and gauges read at scrape time', () => {
    const metrics = new Metrics();
    const rejected = metrics.counter('takedown_rejections_total', 'Artifacts refused, by rule');
    let version = 3;
    metrics.gauge('takedown_applied_version', 'Applied registry version', () => version);
    rejected({ reason: 'bad_signature' });
    rejected({ reason: 'bad_signature' });
    rejected({ reason: 'expired' }, 5);
    version = 4;
    expect(metrics.render()).toBe(
      [
        '# HELP takedown_rejections_total Artifacts refused, by rule',
        '# TYPE takedown_rejections_total counter',
        'takedown_rejections_total{reason="bad_signature"} 2',
        'takedown_rejections_total{reason="expired"} 5',
        '# HELP takedown_applied_version Applied registry version',
        '# TYPE takedown_applied_version gauge',
        'takedown_applied_version 4',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values and sorts label names so one label set is one series', () => {
    const metrics = new Metrics();
    const count = metrics.counter('x_total', 'x');
    count({ b: '2', a: 'quote " and \\ and\nnewline' });
    count({ a: 'quote " and \\ and\nnewline', b: '2' });
    expect(metrics.render()).toContain('x_total{a="quote \\" and \\\\ and\\nnewline",b="2"} 2');
  });
});
