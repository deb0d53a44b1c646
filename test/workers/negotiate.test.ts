import { describe, expect, it } from 'vitest';
import { prefersHtml } from '../../workers/edge/negotiate.ts';

describe('prefersHtml', () => {
  it('gives HTML to browsers and JSON to API clients', () => {
    const firefox = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const chrome =
      'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';
    expect(prefersHtml(firefox)).toBe(true);
    expect(prefersHtml(chrome)).toBe(true);
    for (const apiClient of [null, '', '*/*', 'application/json', 'application/json, text/plain, */*']) {
      expect({ apiClient, html: prefersHtml(apiClient) }).toEqual({ apiClient, html: false });
    }
  });

  it('follows q-values and lets the most specific range decide', () => {
    expect(prefersHtml('application/json;q=0.5, text/html')).toBe(true);
    expect(prefersHtml('text/html;q=0.5, application/json')).toBe(false);
    expect(prefersHtml('text/html;q=0, */*')).toBe(false);
    expect(prefersHtml('text/*')).toBe(true);
    expect(prefersHtml('TEXT/HTML ; Q=1')).toBe(true);
    expect(prefersHtml('text/html, application/json')).toBe(false);
  });
});
