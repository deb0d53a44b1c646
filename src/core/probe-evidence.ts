/**
 * A probe's evidence: one observation (an entry or the canary, asked of one resolver or proxy of one ISP),
 * signed with the probe's own Ed25519 key so the hub, and anyone auditing the hub, can tell that the probe
 * holding that key reported exactly this. Shared by `takedown probe` and the hub (Web standards only).
 */
import { fromBase64, toBase64, utf8 } from './bytes.ts';
import { type PublicKey, type SigningKey, sign, verifySignature } from './keys.ts';

export const CHECK_KINDS = ['dns', 'http', 'canary'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const VERDICTS = ['blocked', 'not-blocked', 'inconclusive'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One observation, as the probe made it. */
export interface ProbeObservation {
  /** The plan this observation belongs to (results outside a plan are refused). */
  planId: number;
  /** Key id of the probe's signing key. */
  probeId: string;
  /** The ISP the resolver or proxy belongs to (the operator's label). */
  isp: string;
  /** `dns:IP:PORT` or `http:IP:PORT`. */
  target: string;
  check: CheckKind;
  /** The plan entry observed; null for the canary. */
  expression: string | null;
  /** What was asked: `name TYPE` for DNS, the absolute URL for HTTP. */
  query: string;
  verdict: Verdict;
  /** How the verdict was reached: `nxdomain`, `nodata`, `walled-garden`, `ede-15`, `answer`, `http-451`, `timeout`... */
  reason: string;
  /** The version a canary answer carried; null when none (and for every other check). */
  canaryVersion: number | null;
  /** The answer as received: base64 of the DNS message, or the HTTP status line and headers. */
  raw: string;
  /** ISO-8601 time the answer arrived. */
  observedAt: string;
}

export interface SignedObservation extends ProbeObservation {
  /** Base64 Ed25519 signature over {@link evidenceBytes}. */
  signature: string;
}

/** Separates these signatures from any other use of a key. */
const DOMAIN_TAG = 'takedown-probe-result/1\n';

/** The signed bytes: a tag and the fields as a JSON array in a fixed order (no key-order ambiguity). */
function evidenceBytes(o: ProbeObservation): Uint8Array {
  return utf8(
    DOMAIN_TAG +
      JSON.stringify([
        o.planId,
        o.probeId,
        o.isp,
        o.target,
        o.check,
        o.expression,
        o.query,
        o.verdict,
        o.reason,
        o.canaryVersion,
        o.raw,
        o.observedAt,
      ]),
  );
}

export async function signObservation(key: SigningKey, o: ProbeObservation): Promise<SignedObservation> {
  return { ...o, signature: toBase64(await sign(key, evidenceBytes(o))) };
}

/** Whether `o` carries `key`'s signature over exactly its fields; never throws. */
export async function verifyObservation(key: PublicKey, o: SignedObservation): Promise<boolean> {
  const signature = fromBase64(o.signature);
  if (!signature) return false;
  return verifySignature(key, signature, evidenceBytes(o));
}
