// The parts of the workerd test modules these tests use (vitest-pool-workers provides them at run time).
declare module 'cloudflare:workers' {
  export const env: import('../../workers/edge/config.ts').EdgeEnv & {
    FEED_BUCKET: import('../../workers/edge/feed-store.ts').ArtifactBucket;
  };
}

declare module 'cloudflare:test' {
  interface TestExecutionContext {
    waitUntil(promise: Promise<unknown>): void;
    passThroughOnException(): void;
    props: unknown;
  }
  export function createExecutionContext(): TestExecutionContext;
  export function waitOnExecutionContext(ctx: TestExecutionContext): Promise<void>;
}

declare module '*?raw' {
  const text: string;
  export default text;
}
