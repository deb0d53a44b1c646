/** Small helpers the tests share for `Result` values and the text fixtures. */

import { readFileSync } from 'node:fs';
import type { Result } from '../../src/core/types.ts';

/** The value of a result that must be ok; a failed one throws with its code, so the test says why. */
export function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The non-empty, non-comment lines of `test/fixtures/<name>`. */
export const fixtureLines = (name: string): string[] =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
