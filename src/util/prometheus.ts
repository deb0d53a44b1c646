/**
 * A small Prometheus text-format registry: counters and gauges with labels. The hub exposes a handful of
 * series, which does not justify a client library with its own global state.
 */
type Labels = Record<string, string>;

interface Series {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, { labels: Labels; value: number }>;
  collect?: () => number;
  collectLabelled?: () => Array<{ labels: Labels; value: number }>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelKey = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`)
    .join(',');

export class Metrics {
  private readonly series = new Map<string, Series>();

  counter(name: string, help: string) {
    const s = this.define(name, help, 'counter');
    return (labels: Labels = {}, by = 1) => {
      const key = labelKey(labels);
      const cur = s.values.get(key);
      if (cur) cur.value += by;
      else s.values.set(key, { labels, value: by });
    };
  }

  /** A gauge read at scrape time, so it never goes stale. */
  gauge(name: string, help: string, collect: () => number): void {
    this.define(name, help, 'gauge').collect = collect;
  }

  /** A gauge with one series per label set, all read at scrape time (e.g. one per ISP). */
  labelledGauge(name: string, help: string, collect: () => Array<{ labels: Labels; value: number }>): void {
    this.define(name, help, 'gauge').collectLabelled = collect;
  }

  render(): string {
    const out: string[] = [];
    for (const [name, s] of this.series) {
      out.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      if (s.collect) out.push(`${name} ${s.collect()}`);
      for (const { labels, value } of [...s.values.values(), ...(s.collectLabelled?.() ?? [])]) {
        const l = labelKey(labels);
        out.push(l ? `${name}{${l}} ${value}` : `${name} ${value}`);
      }
    }
    return `${out.join('\n')}\n`;
  }

  private define(name: string, help: string, type: Series['type']): Series {
    let s = this.series.get(name);
    if (!s) {
      s = { help, type, values: new Map() };
      this.series.set(name, s);
    }
    return s;
  }
}
