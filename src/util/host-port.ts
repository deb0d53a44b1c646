import { isIP } from 'node:net';

/** `HOST:PORT` or `[IPV6]:PORT` with HOST an IP address; null for anything else. */
export function parseHostPort(value: string): { host: string; port: number } | null {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  return isIP(host) === 0 || !Number.isInteger(port) || port > 65535 ? null : { host, port };
}
