/** @jsxImportSource hono/jsx */
import { readFileSync } from 'node:fs';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Child } from 'hono/jsx';
import { secureHeaders } from 'hono/secure-headers';
import type { z } from 'zod';
import { actorOf } from '../api/auth.ts';
import type { AppDeps } from '../api/deps.ts';
import { explainTarget } from '../api/explain.ts';
import { previewOrder } from '../api/order-preview.ts';
import {
  createOrderBody,
  entryQuery,
  extendBody,
  orderQuery,
  revokeBody,
  tokenBody,
} from '../api/schemas.ts';
import { type ExportFormat, exportHeader, exportLines } from '../registry/change-export.ts';
import type { TokenRole } from '../registry/types.ts';
import { type Lang, pickLang } from './i18n.ts';
import { Layout, mayOpen, PAGES, type View, viewOf } from './layout.tsx';
import { type NewOrderForm, NewOrderPage, OrderPage, OrdersPage } from './order-pages.tsx';
import { AuditPage, EntriesPage, IspsPage, MessagePage, SignInPage, TokensPage } from './pages.tsx';
import {
  LANG_COOKIE,
  type Session,
  SessionStore,
  SIGN_IN_COOKIE,
  sameSecret,
  setLangCookie,
  signInCsrf,
} from './session.ts';

// The regulator's console (docs/ARCHITECTURE.md: console): server-rendered pages over the registry functions the
// API routes call, plain HTML forms (no script at all), a session cookie and a CSRF token on every form.

type Form = Record<string, string | File>;
type ConsoleEnv = { Variables: { session: Session; form: Form } };
type C = Context<ConsoleEnv>;

const CONSOLE_ROLES: readonly TokenRole[] = ['admin', 'regulator', 'auditor'];
const STYLESHEET = readFileSync(new URL('./static/console.css', import.meta.url), 'utf8');
const DAY_MS = 86_400_000;

const langOf = (c: Context): Lang => pickLang(getCookie(c, LANG_COOKIE), c.req.header('accept-language'));
const hereOf = (c: Context) => {
  const url = new URL(c.req.url);
  return url.pathname + url.search;
};
const text = (form: Form, name: string) => {
  const v = form[name];
  return typeof v === 'string' ? v : '';
};
/** The first problem of each top-level field, as the form shows it beside that field. */
const fieldErrors = (error: z.ZodError) => {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    out[field] ??= issue.message;
  }
  return out;
};

export function consoleRoutes(deps: AppDeps) {
  const { registry, committed, confidentialCategories, log } = deps;
  const settings = deps.console ?? { sessionMinutes: 8 * 60, lagDeadlineSeconds: 3600 };
  const sessions = new SessionStore(settings.sessionMinutes * 60);

  const view = (c: C): View => viewOf(langOf(c), hereOf(c), c.get('session'));
  const render = (
    c: Context,
    v: View,
    title: string,
    body: Child,
    status: 200 | 401 | 403 | 404 | 422 = 200,
  ) =>
    c.html(
      `<!doctype html>${(
        (
          <Layout view={v} title={title}>
            {body}
          </Layout>
        )
      ).toString()}`,
      status,
    );

  /** A live session (its token still valid) or a redirect to sign-in; POSTs must carry the session's CSRF. */
  const signedIn: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const session = sessions.find(c);
    const live = session && registry.listTokens().some((k) => k.id === session.principal.id && !k.revokedAt);
    if (!session || !live) {
      sessions.end(c, session);
      return c.redirect('/console/sign-in', 303);
    }
    c.set('session', session);
    if (c.req.method === 'POST') {
      const form = (await c.req.parseBody()) as Form;
      if (!sameSecret(text(form, 'csrf'), session.csrf)) {
        const v = view(c);
        return render(c, v, v.t('csrfRefused'), <MessagePage text={v.t('csrfRefused')} />, 403);
      }
      c.set('form', form);
    }
    await next();
  };
  const only =
    (...roles: TokenRole[]): MiddlewareHandler<ConsoleEnv> =>
    async (c, next) => {
      if (!mayOpen(c.get('session').principal.role, roles)) {
        const v = view(c);
        return render(c, v, v.t('forbidden'), <MessagePage text={v.t('forbidden')} />, 403);
      }
      await next();
    };
  const reader = only('regulator', 'auditor');
  const writer = only('regulator');

  const app = new Hono<ConsoleEnv>();
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );
  app.use(async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });

  app.get('/static/console.css', (c) =>
    c.body(STYLESHEET, 200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  );
  app.get('/sign-in', (c) => {
    const v = viewOf(langOf(c), hereOf(c));
    return render(c, v, v.t('signIn'), <SignInPage view={v} csrf={signInCsrf(c)} />);
  });
  app.post('/sign-in', async (c) => {
    const v = viewOf(langOf(c), '/console/sign-in');
    const form = (await c.req.parseBody()) as Form;
    const csrf = signInCsrf(c);
    if (!sameSecret(text(form, 'csrf'), getCookie(c, SIGN_IN_COOKIE))) {
      return render(c, v, v.t('signIn'), <SignInPage view={v} csrf={csrf} error={v.t('csrfRefused')} />, 403);
    }
    const principal = deps.authenticate(text(form, 'token').trim());
    const refusal = !principal
      ? 'badToken'
      : !CONSOLE_ROLES.includes(principal.role)
        ? 'noConsoleRole'
        : null;
    if (!principal || refusal) {
      log?.('console_sign_in_refused', { reason: refusal });
      return render(
        c,
        v,
        v.t('signIn'),
        <SignInPage view={v} csrf={csrf} error={v.t(refusal ?? 'badToken')} />,
        401,
      );
    }
    sessions.start(c, principal);
    log?.('console_sign_in', { actor: principal.id, role: principal.role });
    return c.redirect('/console', 303);
  });
  app.get('/lang/:lang', (c) => {
    const lang = c.req.param('lang');
    if (lang === 'en' || lang === 'vi') setLangCookie(c, lang);
    const back = c.req.query('back') ?? '';
    // Only back into the console: the switch must not become an open redirect.
    return c.redirect(/^\/console(\/[^/\\]|$|\?)/.test(back) ? back : '/console', 303);
  });

  app.use(signedIn);
  app.get('/', (c) => {
    const role = c.get('session').principal.role;
    return c.redirect(PAGES.find((p) => mayOpen(role, p.roles))?.path ?? '/console/sign-in', 303);
  });
  app.post('/sign-out', (c) => {
    sessions.end(c, c.get('session'));
    return c.redirect('/console/sign-in', 303);
  });

  app.get('/orders', reader, (c) => {
    const v = view(c);
    const filters = c.req.query();
    const query = orderQuery.safeParse({
      ...Object.fromEntries(Object.entries(filters).filter(([, x]) => x !== '')),
      limit: 50,
    });
    const page = query.success ? registry.listOrders(query.data) : null;
    const error = !query.success
      ? query.error.issues[0]?.message
      : page && !page.ok
        ? page.error.message
        : undefined;
    const ok = page?.ok ? page.value : { items: [], nextCursor: null };
    return render(
      c,
      v,
      v.t('navOrders'),
      <OrdersPage view={v} filters={filters} orders={ok.items} next={ok.nextCursor} error={error} />,
    );
  });

  app.get('/orders/new', writer, (c) => {
    const v = view(c);
    return render(
      c,
      v,
      v.t('navNewOrder'),
      <NewOrderPage view={v} form={{ category: 'phishing' }} errors={{}} />,
    );
  });
  app.post('/orders/new', writer, async (c) => {
    const v = view(c);
    const f = c.get('form');
    const file = f.file instanceof File && f.file.size > 0 ? await f.file.text() : '';
    const typed = text(f, 'targets');
    const targets = [typed, file]
      .join('\n')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const form: NewOrderForm = {
      reference: text(f, 'reference'),
      authority: text(f, 'authority'),
      category: text(f, 'category'),
      reason: text(f, 'reason'),
      expiresAt: text(f, 'expiresAt'),
      targets: targets.join('\n'),
    };
    const parsed = createOrderBody.safeParse({
      reference: form.reference,
      authority: form.authority,
      category: form.category,
      ...(form.reason ? { reason: form.reason } : {}),
      ...(form.expiresAt ? { expiresAt: form.expiresAt } : {}),
      targets,
    });
    const page = (errors: Record<string, string>, preview?: Parameters<typeof NewOrderPage>[0]['preview']) =>
      render(
        c,
        v,
        v.t('navNewOrder'),
        <NewOrderPage view={v} form={form} errors={errors} preview={preview} />,
        Object.keys(errors).length > 0 || preview?.counts.rejected ? 422 : 200,
      );
    if (!parsed.success) return page(fieldErrors(parsed.error));
    const preview = previewOrder(registry, parsed.data, confidentialCategories);
    if (!preview.ok) return page({ targets: preview.error.message });
    if (text(f, 'intent') !== 'submit' || preview.value.refused) return page({}, preview.value);
    const session = c.get('session');
    const created = registry.createOrder(parsed.data, actorOf(session.principal));
    if (!created.ok) return page({ targets: created.error.message }, preview.value);
    const { order, version, pending } = created.value;
    log?.(pending ? 'order_pending' : 'order_created', {
      order: order.id,
      reference: order.reference,
      version,
      targets: created.value.results.length,
      actor: session.principal.id,
    });
    if (!pending) committed(version);
    return c.redirect(
      `/console/orders/${order.id}?done=${pending ? 'pending' : 'created'}&v=${version}`,
      303,
    );
  });

  const orderId = (c: C) => {
    const id = c.req.param('id') ?? '';
    return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : null;
  };
  const showOrder = (c: C, extra: { notice?: string; error?: string; status?: 200 | 422 } = {}) => {
    const v = view(c);
    const id = orderId(c);
    const found = id === null ? null : registry.getOrder(id, { cursor: c.req.query('cursor'), limit: 100 });
    if (!found?.ok) {
      const message = found && !found.ok ? found.error.message : v.t('none');
      return render(c, v, v.t('order'), <MessagePage text={message} />, 404);
    }
    const { order, entries } = found.value;
    const done = c.req.query('done');
    const vars = { id: order.id, version: c.req.query('v') ?? '' };
    const notice =
      extra.notice ??
      (done === 'created'
        ? v.t('orderCreated', vars)
        : done === 'pending'
          ? v.t('orderPending', vars)
          : done === 'revoked'
            ? v.t('revoked', vars)
            : done === 'extended'
              ? v.t('extended', vars)
              : undefined);
    return render(
      c,
      v,
      `${v.t('order')} ${order.id}: ${order.reference}`,
      <OrderPage
        view={v}
        order={order}
        entries={entries.items}
        next={entries.nextCursor}
        canWrite={mayOpen(c.get('session').principal.role, ['regulator'])}
        notice={notice}
        error={extra.error}
      />,
      extra.status,
    );
  };
  app.get('/orders/:id', reader, (c) => showOrder(c));
  app.post('/orders/:id/revoke', writer, (c) => {
    const id = orderId(c);
    const f = c.get('form');
    const body = revokeBody.safeParse({ reason: text(f, 'reason'), release: text(f, 'release') === 'true' });
    if (id === null || !body.success) return showOrder(c, { error: view(c).t('invalid'), status: 422 });
    const principal = c.get('session').principal;
    const outcome = registry.revokeOrder(id, body.data.reason, actorOf(principal), {
      release: body.data.release,
    });
    if (!outcome.ok) return showOrder(c, { error: outcome.error.message, status: 422 });
    committed(outcome.value.version);
    log?.('order_revoked', { order: id, version: outcome.value.version, actor: principal.id });
    return c.redirect(`/console/orders/${id}?done=revoked&v=${outcome.value.version}`, 303);
  });
  app.post('/orders/:id/extend', writer, (c) => {
    const id = orderId(c);
    const f = c.get('form');
    const reason = text(f, 'extendReason');
    const body = extendBody.safeParse({
      expiresAt: text(f, 'expiresAt') || null,
      ...(reason ? { reason } : {}),
    });
    if (id === null || !body.success) return showOrder(c, { error: view(c).t('invalid'), status: 422 });
    const principal = c.get('session').principal;
    const outcome = registry.extendOrder(id, body.data.expiresAt, actorOf(principal), body.data.reason);
    if (!outcome.ok) return showOrder(c, { error: outcome.error.message, status: 422 });
    committed(outcome.value.version);
    log?.('order_extended', { order: id, version: outcome.value.version, actor: principal.id });
    return c.redirect(`/console/orders/${id}?done=extended&v=${outcome.value.version}`, 303);
  });

  app.get('/entries', reader, (c) => {
    const v = view(c);
    const { explain, cursor, reference, ...rest } = c.req.query();
    const filters = { ...rest, ...(reference ? { reference } : {}) };
    // An order reference names one order's entries; an unknown reference finds nothing.
    const byReference = reference ? registry.listOrders({ reference, limit: 1 }) : undefined;
    const orderIdFilter = byReference?.ok ? byReference.value.items[0]?.id : undefined;
    const query = entryQuery.safeParse({
      ...Object.fromEntries(Object.entries(rest).filter(([, x]) => x !== '')),
      ...(cursor ? { cursor } : {}),
      ...(orderIdFilter !== undefined ? { orderId: orderIdFilter } : {}),
      limit: 50,
    });
    let error: string | undefined;
    let entries: Parameters<typeof EntriesPage>[0]['entries'] = [];
    let next: string | null = null;
    if (!query.success) error = query.error.issues[0]?.message;
    else if (!reference || orderIdFilter !== undefined) {
      const { active, ...q } = query.data;
      const page = registry.listEntries({
        ...q,
        ...(active === undefined ? {} : { active: active === 'true' }),
      });
      if (page.ok) ({ items: entries, nextCursor: next } = page.value);
      else error = page.error.message;
    }
    const explained = explain
      ? explainTarget(registry, explain, confidentialCategories, () => true, true)
      : undefined;
    if (explained && !explained.ok) error = explained.error.message;
    return render(
      c,
      v,
      v.t('navEntries'),
      <EntriesPage
        view={v}
        filters={filters}
        entries={entries}
        next={next}
        target={explain}
        explained={explained?.ok ? explained.value : undefined}
        error={error}
      />,
    );
  });

  app.get('/audit', only('auditor'), (c) => {
    const v = view(c);
    const after = Number(c.req.query('after') ?? 0);
    const page = registry.listChanges({
      afterSeq: Number.isSafeInteger(after) && after > 0 ? after : 0,
      limit: 100,
    });
    const changes = page.ok ? page.value : { items: [], nextAfterSeq: null };
    return render(
      c,
      v,
      v.t('navAudit'),
      <AuditPage
        view={v}
        chain={registry.verifyChain()}
        changes={changes.items}
        nextAfter={changes.nextAfterSeq}
      />,
    );
  });
  app.get('/audit/export', only('auditor'), (c) => {
    const format: ExportFormat = c.req.query('format') === 'jsonl' ? 'jsonl' : 'csv';
    const parts = [exportHeader(format)];
    for (let after: number | null = 0; after !== null; ) {
      const page = registry.listChanges({ afterSeq: after, limit: 1000 });
      if (!page.ok) break;
      parts.push(exportLines(format, page.value.items));
      after = page.value.nextAfterSeq;
    }
    return c.body(parts.join(''), 200, {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="takedown-audit.${format === 'csv' ? 'csv' : 'jsonl'}"`,
    });
  });

  app.get('/isps', reader, (c) => {
    const v = view(c);
    const now = Date.now();
    return render(
      c,
      v,
      v.t('isps'),
      <IspsPage
        view={v}
        version={registry.currentVersion()}
        rows={registry.distributorCompliance()}
        history={registry.lagHistory(new Date(now - DAY_MS).toISOString())}
        deadlineSeconds={settings.lagDeadlineSeconds}
        now={now}
      />,
    );
  });

  const tokensPage = (
    c: C,
    extra: Omit<Parameters<typeof TokensPage>[0], 'view' | 'tokens'> = {},
    status?: 200 | 422,
  ) => {
    const v = view(c);
    return render(
      c,
      v,
      v.t('tokens'),
      <TokensPage view={v} tokens={registry.listTokens()} {...extra} />,
      status,
    );
  };
  app.get('/tokens', only('admin'), (c) => {
    const session = c.get('session');
    const minted = session.minted;
    session.minted = undefined;
    const done = c.req.query('revoked');
    return tokensPage(c, { minted, ...(done ? { notice: view(c).t('tokenRevoked', { id: done }) } : {}) });
  });
  app.post('/tokens', only('admin'), (c) => {
    const f = c.get('form');
    const body = tokenBody.safeParse({ role: text(f, 'role'), name: text(f, 'name') });
    if (!body.success) return tokensPage(c, { error: view(c).t('invalid') }, 422);
    const created = registry.createToken(body.data.role, body.data.name);
    if (!created.ok) return tokensPage(c, { error: created.error.message }, 422);
    log?.('token_created', {
      token: created.value.id,
      role: body.data.role,
      actor: c.get('session').principal.id,
    });
    c.get('session').minted = { token: created.value.token, name: body.data.name };
    return c.redirect('/console/tokens', 303);
  });
  app.post('/tokens/:id/revoke', only('admin'), (c) => {
    const id = Number(c.req.param('id'));
    const revoked = registry.revokeToken(id);
    if (!revoked.ok) return tokensPage(c, { error: revoked.error.message }, 422);
    sessions.endToken(id);
    log?.('token_revoked', { token: id, actor: c.get('session').principal.id });
    return c.redirect(`/console/tokens?revoked=${id}`, 303);
  });

  return app;
}
