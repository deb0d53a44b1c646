import type { Category } from '../core/types.ts';
import { enforcementOf } from '../feeds/enforcement.ts';
import type { EntriesUnder } from '../registry/four-eyes.ts';
import type { Registry } from '../registry/registry.ts';
import type { OrderInput, RegistryResult, TargetResult } from '../registry/types.ts';

/** A target's result, with the feeds and enforcement points that would act on it when it would be added. */
function withEnforcement(r: TargetResult, category: Category, confidential: readonly Category[]) {
  return r.kind === undefined || r.status === 'rejected'
    ? r
    : { ...r, enforcement: enforcementOf(r.kind, category, confidential) };
}

/**
 * What an order would do, nothing written: the answer of `POST /v1/orders?dryRun=true` and the console's
 * per-target preview.
 */
export function previewOrder(
  registry: Registry,
  input: OrderInput,
  confidential: readonly Category[],
  counted?: EntriesUnder,
) {
  const dry = registry.dryRunOrder(input, counted);
  if (!dry.ok) return dry;
  return {
    ok: true,
    value: {
      dryRun: true as const,
      ...dry.value,
      results: dry.value.results.map((r) => withEnforcement(r, input.category, confidential)),
    },
  } satisfies RegistryResult<unknown>;
}
