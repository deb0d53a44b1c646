#!/usr/bin/env node
import type { Command } from './command.ts';
import { UsageError } from './command.ts';

// Loaded lazily so `takedown verify` does not open SQLite and `takedown sync` does not load the hub.
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serve,
  token: async () => (await import('./token.ts')).token,
  import: async () => (await import('./import.ts')).importCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  check: async () => (await import('./check.ts')).check,
  audit: async () => (await import('./audit.ts')).audit,
  orders: async () => (await import('./orders.ts')).orders,
  entries: async () => (await import('./entries.ts')).entries,
  backup: async () => (await import('./backup.ts')).backup,
  log: async () => (await import('./log.ts')).log,
  keygen: async () => (await import('./keygen.ts')).keygen,
  publish: async () => (await import('./publish.ts')).publish,
  verify: async () => (await import('./verify.ts')).verify,
  feed: async () => (await import('./feed.ts')).feed,
  sync: async () => (await import('./sync.ts')).sync,
  probe: async () => (await import('./probe.ts')).probe,
};

async function help(): Promise<string> {
  const lines = ['usage: takedown <command> [options]   (takedown <command> --help for its options)', ''];
  for (const load of Object.values(commands)) {
    try {
      const cmd = await load();
      lines.push(`  ${cmd.name.padEnd(8)} ${cmd.summary}`);
    } catch {
      // a command whose module is not built yet is simply not listed
    }
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`takedown: unknown command "${name}"\n\n${await help()}`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: takedown ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`takedown ${name}: ${err.message}\nusage: takedown ${command.usage}`);
      return 2;
    }
    console.error(`takedown ${name}: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
