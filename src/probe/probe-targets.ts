import { parseHostPort } from '../util/host-port.ts';

/** A resolver or proxy of one ISP, as `--resolver ISP=IP:PORT` / `--proxy ISP=IP:PORT` name it. */
export interface ProbeTarget {
  isp: string;
  host: string;
  port: number;
}

const ISP_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Parses `ISP=IP:PORT`; the error names the argument and the expected form. */
export function parseTarget(flag: string, spec: string): ProbeTarget {
  const eq = spec.indexOf('=');
  const isp = spec.slice(0, eq);
  const address = eq === -1 ? null : parseHostPort(spec.slice(eq + 1));
  if (eq === -1 || !ISP_LABEL.test(isp) || address === null) {
    throw new RangeError(`${flag} "${spec}" is not ISP=IP:PORT (ISP: letters, digits, . _ -)`);
  }
  return { isp, ...address };
}

/** `dns:IP:PORT` or `http:IP:PORT`, as results name their target. */
export const targetName = (scheme: 'dns' | 'http', t: ProbeTarget): string =>
  `${scheme}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
