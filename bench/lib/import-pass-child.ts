/** `node --import tsx bench/lib/import-pass-child.ts DB KIND SIZE COUNT`: one pass (import-pass.ts) as JSON. */

import { type PassKind, runPass } from './import-pass.ts';

const [dbPath, kind, size, count] = process.argv.slice(2);
if (kind !== 'fill' && kind !== 'import' && kind !== 'spread') throw new Error(`unknown pass ${kind}`);
console.log(JSON.stringify(await runPass(dbPath as string, kind as PassKind, Number(size), Number(count))));
