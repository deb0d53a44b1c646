import { describe, expect, it } from 'vitest';
import { blockedResponse, ORDERS_UNAVAILABLE } from '../../workers/edge/block-page.ts';

const notice = {
  url: 'https://evil.example/login',
  blockedBy: 'https://isp.example/legal',
  appealUrl: 'https://isp.example/appeal',
  orders: [
    {
      reference: '5167/BTTTT-CATTT',
      authority: 'Authority <b>"X"</b>',
      issuedAt: '2026-03-01T08:00:00.000Z',
    },
  ],
  feedVersion: 42,
};
const html = (accept = 'text/html') => new Request(notice.url, { headers: { accept } });

describe('blockedResponse', () => {
  it('renders the order, the operator and the appeal route, escaping what the hub sent', async () => {
    const r = blockedResponse(notice, html());
    expect(r.status).toBe(451);
    expect(r.statusText).toBe('Unavailable For Legal Reasons');
    expect(r.headers.get('link')).toBe('<https://isp.example/legal>; rel="blocked-by"');
    const page = await r.text();
    expect(page).toContain('<td>5167/BTTTT-CATTT</td>');
    expect(page).toContain('<td>2026-03-01</td>');
    expect(page).toContain('Authority &#60;b&#62;&#34;X&#34;&#60;/b&#62;');
    expect(page).not.toContain('<b>');
    expect(page).toContain('href="https://isp.example/appeal"');
  });

  it('answers JSON in the error envelope, and says when the order is unknown', async () => {
    const r = blockedResponse({ ...notice, orders: null }, html('application/json'));
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await r.json()).toEqual({
      error: {
        code: 'unavailable_for_legal_reasons',
        message: 'https://evil.example/login is blocked by legal order',
        details: {
          url: notice.url,
          blockedBy: notice.blockedBy,
          orders: [],
          ordersNote: ORDERS_UNAVAILABLE,
          appeal: 'To appeal, contact the operator implementing the block; see https://isp.example/appeal.',
          appealUrl: notice.appealUrl,
          feedVersion: 42,
        },
      },
    });
  });
});
