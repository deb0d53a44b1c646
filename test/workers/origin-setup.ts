import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A tiny HTTP origin on loopback that echoes what reached it. */
    originUrl: string;
  }
}

/** Starts the origin the workerd tests pass requests to. */
export default async function setup(project: TestProject) {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`origin ${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  project.provide('originUrl', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
