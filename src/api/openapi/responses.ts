import { z } from 'zod';
import { ACTIONS, CATEGORIES } from '../../core/types.ts';
import { ORDER_STATUSES, TOKEN_ROLES } from '../../registry/types.ts';

// The shapes the API answers with, for the OpenAPI document only: requests are described by the schemas that
// validate them (schemas.ts); answers are built by the registry's types, and test/api/openapi.test.ts checks
// real answers against these.

const time = z.string().describe('ISO-8601 time');
const category = z.enum(CATEGORIES);
const action = z.enum(ACTIONS);
const kind = z.enum(['domain', 'url']);
const count = z.number().int().min(0);
const cursor = z.string().nullable().describe('pass as `cursor` for the next page; null on the last page');

export const errorResponse = z.object({
  error: z.object({
    code: z.string().describe('stable snake_case code'),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const approvalReason = z.object({ code: z.string(), message: z.string() });

export const order = z.looseObject({
  id: z.number().int(),
  reference: z.string(),
  authority: z.string(),
  category,
  action,
  reason: z.string().nullable(),
  issuedAt: time,
  expiresAt: time.nullable(),
  createdAt: time,
  createdBy: z.string(),
  version: z.number().int().nullable(),
  status: z.enum(ORDER_STATUSES),
  revokedAt: time.nullable(),
  revokeReason: z.string().nullable(),
  endedVersion: z.number().int().nullable(),
  override: z.looseObject({ reason: z.string(), actor: z.string() }).nullable(),
  entryCount: count,
  approval: z.looseObject({ reasons: z.array(approvalReason), expiresAt: time }).nullable(),
  released: z.boolean(),
});

export const targetResult = z.looseObject({
  target: z.string(),
  kind: kind.optional(),
  expression: z.string().optional(),
  status: z.enum(['added', 'already-active', 'duplicate', 'rejected', 'accepted', 'pending']),
  code: z.string().optional(),
  message: z.string().optional(),
  rails: z.array(z.string()).optional(),
  enforcement: z.object({ feeds: z.array(z.string()), points: z.array(z.string()) }).optional(),
});

const counts = z.object({
  added: count,
  alreadyActive: count,
  duplicate: count,
  pending: count,
  rejected: count,
  rejectedByCode: z.record(z.string(), count).describe('rejected targets per code'),
});

export const entry = z.looseObject({
  id: z.number().int(),
  expression: z.string(),
  kind,
  category,
  action,
  host: z.string(),
  registrableDomain: z.string().nullable(),
  active: z.boolean(),
  orderId: z.number().int().nullable(),
  firstVersion: z.number().int(),
  lastVersion: z.number().int(),
});

const writeOutcome = z.looseObject({ version: z.number().int(), adds: count, removes: count });

export const createdOrder = z.object({
  order,
  version: z.number().int(),
  results: z.array(targetResult),
  counts,
  pending: z.literal(true).optional(),
});

export const dryRun = z.object({
  dryRun: z.literal(true),
  version: z.number().int(),
  results: z.array(targetResult),
  counts,
  approval: z.object({ required: z.boolean(), reasons: z.array(approvalReason) }),
  refused: z.boolean(),
});

export const orderPage = z.object({ orders: z.array(order), nextCursor: cursor });
export const orderDetail = z.object({
  order,
  entries: z.array(
    entry.extend({ linkStatus: z.enum(['active', 'removed']), removedReason: z.string().nullable() }),
  ),
  nextCursor: cursor,
});
export const orderWrite = writeOutcome;
export const entryPage = z.object({ entries: z.array(entry), nextCursor: cursor });
export const entryRevoked = writeOutcome.extend({ entry });

const released = z.looseObject({
  expression: z.string(),
  kind,
  active: z.boolean(),
  orderId: z.number().int(),
  releasedAt: time,
  reason: z.string(),
});
export const releasedPage = z.object({ released: z.array(released), nextCursor: cursor });

export const token = z.object({
  id: z.number().int(),
  name: z.string(),
  role: z.enum(TOKEN_ROLES),
  createdAt: time,
  revokedAt: time.nullable(),
  lastUsedAt: time.nullable(),
});
export const mintedToken = z.object({
  id: z.number().int(),
  token: z.string().describe('shown once; the hub keeps only its hash'),
  role: z.enum(TOKEN_ROLES),
  name: z.string(),
});

export const change = z.looseObject({
  seq: z.number().int(),
  version: z.number().int(),
  op: z.string(),
  expression: z.string(),
  category,
  orderId: z.number().int(),
  orderRef: z.string(),
  actor: z.string(),
  reason: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
export const changePage = z.object({
  changes: z.array(change),
  nextAfter: z.number().int().nullable().describe('pass as `after` for the next page'),
});
export const chainReport = z.object({
  ok: z.boolean(),
  rows: count,
  brokenAt: z.number().int().optional(),
  reason: z.string().optional(),
});

export const distributor = z.looseObject({
  tokenId: z.number().int(),
  agentId: z.string(),
  name: z.string(),
  tokenRevoked: z.boolean(),
  feed: z.string(),
  version: z.number().int(),
  appliedAt: time,
  reportedAt: time,
  outputs: z.array(z.object({ format: z.string(), path: z.string(), ok: z.boolean() })),
  lagVersions: count,
  lagSeconds: count,
  lastContactSeconds: z.number().int(),
  /** The transparency-log checkpoint the agent enforces, and whether the hub's own tree has that root. */
  checkpoint: z
    .object({
      version: z.number().int(),
      treeSize: z.number().int(),
      rootHash: z.string(),
      matchesHub: z.boolean().nullable(),
    })
    .nullable()
    .optional(),
});
/** One version for which agents reported different trees: a split view. */
const splitView = z.object({
  version: z.number().int(),
  hubRootHash: z.string().nullable(),
  roots: z.array(
    z.object({
      treeSize: z.number().int(),
      rootHash: z.string(),
      matchesHub: z.boolean().nullable(),
      agents: z.array(
        z.object({ tokenId: z.number().int(), agentId: z.string(), name: z.string(), feed: z.string() }),
      ),
    }),
  ),
});
export const distributorList = z.object({
  version: z.number().int(),
  distributors: z.array(distributor),
  splitViews: z.array(splitView),
});
export const reportAck = z.looseObject({ registryVersion: z.number().int() });

const match = z.looseObject({ expression: z.string(), kind, category, orders: z.array(z.looseObject({})) });
export const explain = z.looseObject({
  target: z.string(),
  canonical: z.string(),
  expressions: z.array(z.string()),
  blocked: z.boolean(),
  version: z.number().int(),
  matches: z.array(match),
});
export const checkResults = z.object({
  version: z.number().int(),
  results: z.array(
    z.looseObject({ target: z.string(), blocked: z.boolean(), matches: z.array(match).optional() }),
  ),
});

export const health = z.object({ status: z.string(), version: z.number().int() });
export const keys = z.object({ keys: z.array(z.object({ id: z.string(), publicKey: z.string() })) });
export const feedList = z.looseObject({ version: z.number().int(), feeds: z.array(z.looseObject({})) });
export const confirmAnswer = z.object({
  version: z.number().int(),
  bits: z.object({ root: z.number().int(), path: z.number().int() }),
  blocked: z.array(z.looseObject({})),
});
export const pinnedKey = z.looseObject({});
export const probePlan = z.looseObject({});
export const probeRecorded = z.looseObject({});
export const compliance = z.object({
  version: z.number().int(),
  hours: z.number(),
  isps: z.array(z.looseObject({})),
});
const head = { version: z.number().int(), treeSize: count, rootHash: z.string() };
export const inclusionProof = z.object({
  ...head,
  leafIndex: count,
  leafHash: z.string().nullable(),
  proof: z.array(z.string()),
  checkpoint: z.string(),
});
const signedHead = z.object({ ...head, checkpoint: z.string() });
export const consistencyProof = z.object({ from: signedHead, to: signedHead, proof: z.array(z.string()) });
export const logEntries = z.object({
  treeSize: count,
  start: count,
  entries: z.array(z.looseObject({ index: count, leaf: z.string(), leafHash: z.string() })),
  next: count.nullable(),
});
export const transparency = z.looseObject({ confidentialCategories: z.array(z.string()) });
export const tokenList = z.object({ tokens: z.array(token) });
export const tokenRevoked = z.object({ token });
