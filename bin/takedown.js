#!/usr/bin/env node
// The installed `takedown` command. The package ships its TypeScript sources and runs them through
// tsx's loader, as `npm start` does in a checkout (worker threads load tsx the same way); see
// docs/DECISIONS.md.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
