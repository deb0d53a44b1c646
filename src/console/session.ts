import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Principal } from '../registry/types.ts';

// Console sessions live in the hub's memory: the browser holds a random id in an HttpOnly, SameSite=Strict
// cookie (Secure behind TLS) and never the API token itself. A restart signs everyone out (docs/DECISIONS.md).

export const SESSION_COOKIE = 'takedown_session';
/** The sign-in form's own CSRF value, before there is a session. */
export const SIGN_IN_COOKIE = 'takedown_signin';
export const LANG_COOKIE = 'takedown_lang';
const COOKIE_PATH = '/console';
const SIGN_IN_SECONDS = 15 * 60;

export interface Session {
  id: string;
  principal: Principal;
  /** The synchronizer token every form of this session carries. */
  csrf: string;
  expiresAt: number;
  /** A token just minted: shown by the next page of this session only, so a reload cannot mint or show it again. */
  minted?: { token: string; name: string };
}

const randomId = () => randomBytes(32).toString('base64url');

/** Equal strings, compared in constant time. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Behind a TLS-terminating proxy the hub sees http; the proxy's `X-Forwarded-Proto` tells it otherwise. */
const overTls = (c: Context) =>
  new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

const cookieOptions = (c: Context, maxAge: number) =>
  ({ httpOnly: true, sameSite: 'Strict', secure: overTls(c), path: COOKIE_PATH, maxAge }) as const;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new session for `principal`, with its cookie set on the answer. */
  start(c: Context, principal: Principal): Session {
    this.sweep();
    const session = {
      id: randomId(),
      principal,
      csrf: randomId(),
      expiresAt: this.now() + this.ttlSeconds * 1000,
    };
    this.sessions.set(session.id, session);
    setCookie(c, SESSION_COOKIE, session.id, cookieOptions(c, this.ttlSeconds));
    deleteCookie(c, SIGN_IN_COOKIE, { path: COOKIE_PATH });
    return session;
  }

  /** The live session the request's cookie names, or undefined. */
  find(c: Context): Session | undefined {
    const id = getCookie(c, SESSION_COOKIE);
    const session = id ? this.sessions.get(id) : undefined;
    if (session && session.expiresAt <= this.now()) {
      this.sessions.delete(session.id);
      return undefined;
    }
    return session;
  }

  end(c: Context, session: Session | undefined): void {
    if (session) this.sessions.delete(session.id);
    deleteCookie(c, SESSION_COOKIE, {
      path: COOKIE_PATH,
      secure: overTls(c),
      httpOnly: true,
      sameSite: 'Strict',
    });
  }

  /** Ends every session of a token (it was revoked). */
  endToken(tokenId: number): void {
    for (const [id, s] of this.sessions) if (s.principal.id === tokenId) this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** The sign-in form's CSRF value: reused while its cookie lives, else a new one set on the answer. */
export function signInCsrf(c: Context): string {
  const existing = getCookie(c, SIGN_IN_COOKIE);
  if (existing) return existing;
  const value = randomId();
  setCookie(c, SIGN_IN_COOKIE, value, cookieOptions(c, SIGN_IN_SECONDS));
  return value;
}

export function setLangCookie(c: Context, lang: string): void {
  setCookie(c, LANG_COOKIE, lang, { ...cookieOptions(c, 365 * 86_400) });
}
