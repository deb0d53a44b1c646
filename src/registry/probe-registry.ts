/** The registry's probe side: keys, plans, results and compliance, on the registry's connection. */

import type { SignedObservation } from '../core/probe-evidence.ts';
import { complianceReport, type IspCompliance } from './probe-compliance.ts';
import { createPlan, type PlanRequest, type ProbePlan } from './probe-plans.ts';
import {
  type ProbeKey,
  probeKeyOf,
  type RecordedResults,
  recordResults,
  registerProbeKey,
} from './probe-results.ts';
import type { Store } from './store.ts';
import type { RegistryResult } from './types.ts';

export class ProbeRegistry {
  constructor(private readonly store: Store) {}

  keyOf(tokenId: number): ProbeKey | null {
    return probeKeyOf(this.store, tokenId);
  }

  registerKey(
    tokenId: number,
    keyId: string,
    publicKey: string,
  ): RegistryResult<ProbeKey & { created: boolean }> {
    return registerProbeKey(this.store, tokenId, keyId, publicKey);
  }

  createPlan(tokenId: number, request: PlanRequest): RegistryResult<ProbePlan> {
    return createPlan(this.store, tokenId, request);
  }

  /** Stores results whose signatures the caller verified against `keyId`, all or none. */
  recordResults(
    tokenId: number,
    keyId: string,
    results: readonly SignedObservation[],
  ): RegistryResult<RecordedResults> {
    return recordResults(this.store, tokenId, keyId, results);
  }

  compliance(hours?: number): IspCompliance[] {
    return complianceReport(this.store, hours);
  }
}

export type { IspCompliance } from './probe-compliance.ts';
export type { PlanEntry, ProbePlan } from './probe-plans.ts';
export type { ProbeKey } from './probe-results.ts';
