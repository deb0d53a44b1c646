/** Content negotiation for the block page (RFC 9110 section 12.5.1), reduced to HTML versus JSON. */

interface Preference {
  q: number;
  /** 2 for an exact type, 1 for `type/*`, 0 for `* / *`. */
  specificity: number;
}

/**
 * Whether a client asking with `accept` gets HTML rather than JSON. Browsers name `text/html`; API clients
 * name `application/json` or send nothing or only `* / *` (curl), and get JSON.
 */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  const html = preference(accept, 'text', 'html');
  const json = preference(accept, 'application', 'json');
  if (html.q <= 0) return false;
  if (html.q !== json.q) return html.q > json.q;
  return html.specificity > json.specificity;
}

function preference(accept: string, type: string, subtype: string): Preference {
  let best: Preference = { q: 0, specificity: -1 };
  for (const range of accept.split(',')) {
    const [mediaRange = '', ...params] = range.split(';');
    const [t = '', s = ''] = mediaRange.trim().toLowerCase().split('/');
    const specificity =
      t === type && s === subtype ? 2 : t === type && s === '*' ? 1 : t === '*' && s === '*' ? 0 : -1;
    if (specificity < best.specificity || specificity < 0) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=');
      if (name?.trim().toLowerCase() === 'q') q = clampQ(Number(value?.trim()));
    }
    // The most specific range decides (RFC 9110: `text/html;q=0` beats `*/*`).
    best = { q, specificity };
  }
  return best;
}

function clampQ(q: number): number {
  return Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 1;
}
