// The agent side of the RPZ benchmark, in a child process: the state, and either the served zone or the
// rendered file; the parent drives it over IPC (publish a version, collect garbage).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderToFile } from '../../src/agent/render-to-file.ts';
import { encodeDelta } from '../../src/core/plain-payload.ts';
import { PlainState } from '../../src/core/plain-state.ts';
import type { FeedEntry } from '../../src/core/types.ts';
import type { DnsLogEvent } from '../../src/dns/responder.ts';
import { serveZone, zoneChanges } from '../../src/dns/zone-feed.ts';
import { resolveRenderOptions } from '../../src/render/index.ts';
import { REPO_ROOT } from '../lib/data.ts';
import { collectGarbage } from '../lib/timing.ts';
// ---------------------------------------------------------------------------------------------------
// The agent's side, in a child process: the state, and either the served zone or the rendered file.

export type AgentMode = 'primary' | 'file';

/** Publish a version adding `add`, or (without them) only run a full garbage collection. */
export interface AgentCommand {
  id: number;
  version?: number;
  add?: FeedEntry[];
}
export interface AgentReply {
  id: number;
  /** Applying the delta payload to the state. */
  applyMs: number;
  /** Publishing to the served zone, or rendering the RPZ file. */
  workMs: number;
  /** After a garbage collection command: `process.memoryUsage()` of the agent. */
  memory?: NodeJS.MemoryUsage;
}
export interface AgentReady {
  ready: true;
  loadMs: number;
  /** RSS after a full GC before and after publishing the first version (primary only). */
  rss: { before: number; after: number };
}
export type AgentMessage = AgentReady | AgentReply | { log: DnsLogEvent } | { error: string };

export const rssNow = () => {
  collectGarbage();
  return process.memoryUsage().rss;
};

export async function agentChild(
  mode: AgentMode,
  payloadPath: string,
  arg: string,
  notify: string,
  pieceRecords: string,
): Promise<void> {
  const send = (message: AgentMessage) => process.send?.(message);
  const started = performance.now();
  const loaded = PlainState.fromSnapshot(readFileSync(payloadPath));
  if (!loaded.ok) throw new Error(`payload: ${loaded.error.message}`);
  let state = loaded.value;
  const options = resolveRenderOptions();
  const render = (version: number) => renderToFile(arg, 'rpz', state.entries(), { version, options });
  let publish: (version: number, previous: PlainState, delta: Uint8Array) => void;
  const rss = { before: 0, after: 0 };
  if (mode === 'primary') {
    const zone = await serveZone({
      host: '127.0.0.1',
      port: Number(arg),
      render: options,
      notify: JSON.parse(notify) as Array<{ host: string; port: number }>,
      ...(pieceRecords !== '' && { pieceRecords: Number(pieceRecords) }),
      log: (event) => {
        if (event.event === 'transfer' || event.event === 'error') send({ log: event });
      },
    });
    rss.before = rssNow();
    // As the agent publishes the state it starts with: every entry an add from version 0.
    zone.publish(1, state, zoneChanges(PlainState.empty(), state));
    rss.after = rssNow();
    publish = (version, previous, delta) => zone.publish(version, state, zoneChanges(previous, state, delta));
  } else {
    await render(1);
    publish = () => undefined;
  }
  collectGarbage();
  process.on('message', (command: AgentCommand) => {
    void (async () => {
      if (command.add === undefined || command.version === undefined) {
        collectGarbage();
        return send({ id: command.id, applyMs: 0, workMs: 0, memory: process.memoryUsage() });
      }
      const t0 = performance.now();
      const delta = encodeDelta(command.add.map((entry) => ({ op: 'add' as const, ...entry })));
      const previous = state;
      const next = previous.applyDelta(delta);
      if (!next.ok) throw new Error(next.error.message);
      state = next.value;
      const t1 = performance.now();
      if (mode === 'primary') publish(command.version, previous, delta);
      else await render(command.version);
      send({ id: command.id, applyMs: t1 - t0, workMs: performance.now() - t1 });
    })().catch((error: Error) => send({ error: error.stack ?? error.message }));
  });
  send({ ready: true, loadMs: performance.now() - started, rss });
}

export interface Agent {
  pid: number;
  loadMs: number;
  rss: AgentReady['rss'];
  logs: DnsLogEvent[];
  publish(version: number, add: FeedEntry[]): Promise<AgentReply>;
  collectGarbage(): Promise<AgentReply>;
  stop(): Promise<void>;
}

/** `pieceRecords`: records per IXFR answer to a NOTIFYed secondary (empty: the primary's default). */
export function startAgent(
  mode: AgentMode,
  payloadPath: string,
  arg: string,
  notify = '[]',
  pieceRecords = '',
): Promise<Agent> {
  const script = fileURLToPath(import.meta.url);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, '--agent', mode, payloadPath, arg, notify, pieceRecords],
    { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const logs: DnsLogEvent[] = [];
  const waiting = new Map<number, (reply: AgentReply) => void>();
  let failure: ((error: Error) => void) | undefined;
  let ids = 0;
  const request = (command: Omit<AgentCommand, 'id'>) =>
    new Promise<AgentReply>((done, fail) => {
      const id = ++ids;
      failure = fail;
      waiting.set(id, done);
      child.send({ id, ...command } satisfies AgentCommand);
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    failure = reject;
    child.once('exit', (code) => failure?.(new Error(`${mode} agent exited with ${code}`)));
    child.on('message', (message: AgentMessage) => {
      if ('log' in message) logs.push(message.log);
      else if ('error' in message) failure?.(new Error(`${mode} agent: ${message.error}`));
      else if ('ready' in message)
        resolve({
          pid: child.pid as number,
          loadMs: message.loadMs,
          rss: message.rss,
          logs,
          stop,
          publish: (version, add) => request({ version, add }),
          collectGarbage: () => request({}),
        });
      else waiting.get(message.id)?.(message);
    });
  });
}

if (process.argv[2] === '--agent') {
  const [mode, payloadPath, arg, notify, pieceRecords] = process.argv.slice(3) as [
    AgentMode,
    string,
    string,
    string,
    string,
  ];
  await agentChild(mode, payloadPath, arg, notify, pieceRecords ?? '');
}
