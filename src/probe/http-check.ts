import { request } from 'node:http';
import type { Verdict } from '../core/probe-evidence.ts';

// An HTTP request for a listed URL through the ISP's proxy (absolute-form request line, RFC 9112 section
// 3.2.2), with plain node:http: the verdict rests on what the proxy answers, never on what a client library
// adds or follows (no redirects, no retries).

export interface HttpVerdict {
  verdict: Verdict;
  /** `http-451-blocked-by`, `http-451`, `block-page`, `http-200`, `proxy-error`, `timeout`, ... */
  reason: string;
  /** The status line and headers as received (never the body). */
  raw: string;
}

export interface HttpCheckOptions {
  proxy: { host: string; port: number };
  timeoutMs: number;
  /** Text only the ISP's block page contains; when set, the body (its first 64 KiB) is searched for it. */
  blockPageFingerprint?: string;
}

const MAX_BODY = 65_536;

/** RFC 7725: the Link header naming who blocks, `rel="blocked-by"` (rel values are case-insensitive). */
const BLOCKED_BY = /;\s*rel\s*=\s*"?blocked-by"?/i;

function statusLine(version: string, status: number, message: string, rawHeaders: string[]): string {
  const lines = [`HTTP/${version} ${status} ${message}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return lines.join('\n');
}

/** Asks the proxy for `url` (http only) and says whether the answer is a block. Never throws. */
export function checkThroughProxy(url: string, options: HttpCheckOptions): Promise<HttpVerdict> {
  return new Promise((resolve) => {
    const settle = (verdict: HttpVerdict) => {
      req.destroy();
      resolve(verdict);
    };
    const req = request(
      {
        host: options.proxy.host,
        port: options.proxy.port,
        method: 'GET',
        path: url,
        headers: { host: new URL(url).host, 'user-agent': 'takedown-probe', connection: 'close' },
        agent: false,
        timeout: options.timeoutMs,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const raw = statusLine(res.httpVersion, status, res.statusMessage ?? '', res.rawHeaders);
        if (status === 451) {
          const link = [res.headers.link ?? []].flat().join(', ');
          return settle({
            verdict: 'blocked',
            reason: BLOCKED_BY.test(link) ? 'http-451-blocked-by' : 'http-451',
            raw,
          });
        }
        // 502-504: the proxy could not reach the origin, which says nothing about a block.
        const other: HttpVerdict =
          status >= 502 && status <= 504
            ? { verdict: 'inconclusive', reason: `http-${status}`, raw }
            : { verdict: 'not-blocked', reason: `http-${status}`, raw };
        const fingerprint = options.blockPageFingerprint;
        if (!fingerprint) return settle(other);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.includes(fingerprint)) settle({ verdict: 'blocked', reason: 'block-page', raw });
          else if (body.length >= MAX_BODY) settle(other);
        });
        res.on('end', () => settle(other));
        res.on('error', () => settle(other));
      },
    );
    req.on('timeout', () => settle({ verdict: 'inconclusive', reason: 'timeout', raw: '' }));
    req.on('error', (error) =>
      settle({ verdict: 'inconclusive', reason: 'proxy-error', raw: error.message }),
    );
    req.end();
  });
}
