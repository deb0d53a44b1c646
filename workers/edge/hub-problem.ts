import type { FetchFailure } from '../../src/core/hub-client.ts';
import type { Failure } from '../../src/core/types.ts';

/** A failed hub request as the edge reports it: unreachable (network, timeout) or an answer it cannot use. */
export function hubProblem(failure: FetchFailure): Failure {
  const unreachable = failure.reason === 'network' || failure.reason === 'timeout';
  return { code: unreachable ? 'hub_unreachable' : 'hub_error', message: failure.message };
}
