import { Hono } from 'hono';
import { z } from 'zod';
import { importPublicKey, type PublicKey } from '../../core/keys.ts';
import {
  CHECK_KINDS,
  type SignedObservation,
  VERDICTS,
  verifyObservation,
} from '../../core/probe-evidence.ts';
import { type AuthEnv, requireRole } from '../auth.ts';
import type { AppDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { BODY_LIMITS, jsonBody } from '../json-body.ts';
import { unwrap } from '../registry-result.ts';
import { validate } from '../validate.ts';

/** Results per `POST /v1/probes/results`. */
const MAX_RESULTS_PER_BATCH = 1000;

const keyBody = z.strictObject({ publicKey: z.string().min(1).max(100) });

const planQuery = z.strictObject({
  budget: z.coerce.number().int().min(1).max(1_000_000),
  perEntry: z.coerce.number().int().min(1).max(1000).default(2),
  seed: z.string().min(1).max(64).optional(),
});

const short = (max: number) => z.string().min(1).max(max);

const observation = z.strictObject({
  planId: z.number().int().positive(),
  probeId: short(64),
  isp: short(100),
  target: short(300),
  check: z.enum(CHECK_KINDS),
  expression: z.string().min(1).max(4096).nullable(),
  query: short(4200),
  verdict: z.enum(VERDICTS),
  reason: short(100),
  canaryVersion: z.number().int().min(0).nullable(),
  raw: z.string().max(16_384),
  observedAt: z.iso.datetime({ offset: true }),
  signature: short(200),
});

const resultsBody = z.strictObject({ results: z.array(observation).min(1).max(MAX_RESULTS_PER_BATCH) });

/**
 * `/v1/probes`: compliance probes (role `prober`) pin their Ed25519 key, fetch sampling plans and post signed
 * results. A batch is stored whole or refused whole: one bad signature, a result outside the plans handed to
 * this token, or a key other than the pinned one refuses it (docs/DECISIONS.md, "Probes").
 */
export function probesRoutes({ registry, authenticate, confidentialCategories: confidential }: AppDeps) {
  const prober = requireRole(authenticate, 'prober');

  /** The pinned key of the calling token, or 409: a probe registers its key before anything else. */
  const pinnedKey = async (tokenId: number): Promise<{ id: string; key: PublicKey }> => {
    const pinned = registry.probes.keyOf(tokenId);
    if (!pinned) {
      throw new ApiError(409, 'probe_key_required', 'register the probe key first: POST /v1/probes/keys');
    }
    const key = await importPublicKey(pinned.publicKey);
    if (!key.ok) throw new Error(`pinned probe key of token ${tokenId} is unreadable: ${key.error.message}`);
    return { id: pinned.keyId, key: key.value };
  };

  return new Hono<AuthEnv>()
    .post('/keys', prober, jsonBody(BODY_LIMITS.small), validate('json', keyBody), async (c) => {
      const key = await importPublicKey(c.req.valid('json').publicKey);
      if (!key.ok) throw new ApiError(422, 'bad_key', key.error.message);
      const principal = c.get('principal');
      const { created, ...pinned } = unwrap(
        registry.probes.registerKey(principal.id, key.value.id, c.req.valid('json').publicKey.trim()),
      );
      return c.json(pinned, created ? 201 : 200);
    })
    .get('/plan', prober, validate('query', planQuery), async (c) => {
      const principal = c.get('principal');
      await pinnedKey(principal.id);
      const { budget, perEntry, seed } = c.req.valid('query');
      const plan = unwrap(
        registry.probes.createPlan(principal.id, {
          budget,
          perEntry,
          ...(seed !== undefined && { seed }),
          confidential,
        }),
      );
      return c.json(plan);
    })
    .post(
      '/results',
      prober,
      jsonBody(BODY_LIMITS.probeResults),
      validate('json', resultsBody),
      async (c) => {
        const principal = c.get('principal');
        const pinned = await pinnedKey(principal.id);
        const results = c.req.valid('json').results as SignedObservation[];
        const bad: Array<{ index: number; reason: string }> = [];
        for (const [index, result] of results.entries()) {
          if (result.probeId !== pinned.id) {
            bad.push({ index, reason: `probeId ${result.probeId} is not the pinned key ${pinned.id}` });
          } else if (!(await verifyObservation(pinned.key, result))) {
            bad.push({ index, reason: `signature does not verify with key ${pinned.id}` });
          }
        }
        if (bad.length > 0) {
          throw new ApiError(422, 'bad_signature', `${bad.length} result(s) carry no valid signature`, bad);
        }
        const recorded = unwrap(registry.probes.recordResults(principal.id, pinned.id, results));
        if ('outside' in recorded) {
          throw new ApiError(
            422,
            'not_in_plan',
            `${recorded.outside.length} result(s) are outside the plans handed to this token`,
            recorded.outside,
          );
        }
        return c.json(recorded, 201);
      },
    );
}
