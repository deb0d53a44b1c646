/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { TokenRole } from '../registry/types.ts';
import { type Lang, type MessageKey, translate } from './i18n.ts';
import type { Session } from './session.ts';

/** What every page knows about the request it answers. */
export interface View {
  lang: Lang;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  session?: Session;
  /** The path and query of this page (where the language switch comes back to). */
  here: string;
}

export const viewOf = (lang: Lang, here: string, session?: Session): View => ({
  lang,
  t: (key, vars) => translate(lang, key, vars),
  session,
  here,
});

/** Pages and the roles that open them (admin opens all): the API's own role rules. */
export const PAGES: ReadonlyArray<{ path: string; label: MessageKey; roles: readonly TokenRole[] }> = [
  { path: '/console/orders', label: 'navOrders', roles: ['regulator', 'auditor'] },
  { path: '/console/orders/new', label: 'navNewOrder', roles: ['regulator'] },
  { path: '/console/entries', label: 'navEntries', roles: ['regulator', 'auditor'] },
  { path: '/console/audit', label: 'navAudit', roles: ['auditor'] },
  { path: '/console/isps', label: 'navIsps', roles: ['regulator', 'auditor'] },
  { path: '/console/tokens', label: 'navTokens', roles: ['admin'] },
];

export const mayOpen = (role: TokenRole, roles: readonly TokenRole[]) =>
  role === 'admin' || roles.includes(role);

/** The hidden CSRF field every form of a session carries. */
export const Csrf = ({ view }: { view: View }) => (
  <input type="hidden" name="csrf" value={view.session?.csrf} />
);

export function Notice({ kind, children }: { kind: 'ok' | 'error'; children: Child }) {
  return (
    <p class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

/**
 * A table with one header cell per column and one row per item; `empty`, when given, stands instead of a
 * table without rows.
 */
export function Table<T>(props: {
  columns: readonly string[];
  rows: readonly T[];
  row: (item: T) => Child;
  empty?: string;
  id?: string;
  class?: string;
}) {
  if (props.empty !== undefined && props.rows.length === 0) return <p>{props.empty}</p>;
  return (
    <table id={props.id} class={props.class}>
      <thead>
        <tr>
          {props.columns.map((column) => (
            <th scope="col">{column}</th>
          ))}
        </tr>
      </thead>
      <tbody>{props.rows.map(props.row)}</tbody>
    </table>
  );
}

/** The link to the next page of a list, when there is one. */
export function NextPage({ href, label }: { href: string | undefined; label: string }) {
  if (href === undefined) return null;
  return (
    <p>
      <a rel="next" href={href}>
        {label}
      </a>
    </p>
  );
}

/** The query of a list's next page: its filters that are set, and the cursor. */
export const nextQuery = (filters: object, cursor: string): string =>
  new URLSearchParams({
    ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined && v !== '')),
    cursor,
  }).toString();

/** The page frame: skip link, navigation for the session's role, language switch, sign-out. */
export function Layout({ view, title, children }: { view: View; title: string; children: Child }) {
  const { t, session } = view;
  const other: Lang = view.lang === 'vi' ? 'en' : 'vi';
  return (
    <html lang={view.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>
          {title} · {t('title')}
        </title>
        <link rel="stylesheet" href="/console/static/console.css" />
      </head>
      <body>
        <a class="skip" href="#main">
          {t('skip')}
        </a>
        <header>
          <p class="brand">{t('title')}</p>
          {session ? (
            <nav aria-label={t('nav')}>
              <ul>
                {PAGES.filter((p) => mayOpen(session.principal.role, p.roles)).map((p) => (
                  <li>
                    <a href={p.path} aria-current={view.here.split('?')[0] === p.path ? 'page' : undefined}>
                      {t(p.label)}
                    </a>
                  </li>
                ))}
                <li>
                  <a href="/docs">{t('navApi')}</a>
                </li>
              </ul>
            </nav>
          ) : null}
          <div class="tools">
            <a
              href={`/console/lang/${other}?back=${encodeURIComponent(view.here)}`}
              lang={other}
              hreflang={other}
              id="lang-switch"
            >
              {other === 'en' ? 'English' : 'Tiếng Việt'}
            </a>
            {session ? (
              <form method="post" action="/console/sign-out" class="inline">
                <Csrf view={view} />
                <span>
                  {t('signedInAs')} {session.principal.name} ({session.principal.role})
                </span>{' '}
                <button type="submit">{t('signOut')}</button>
              </form>
            ) : null}
          </div>
        </header>
        <main id="main">
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}

/** A labelled form field. */
export function Field({
  label,
  name,
  value,
  type = 'text',
  help,
  error,
  required,
}: {
  label: string;
  name: string;
  value?: string | undefined;
  type?: string;
  help?: string;
  error?: string | undefined;
  required?: boolean;
}) {
  const id = `f-${name}`;
  const described = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <p class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        value={value ?? ''}
        required={required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
      {help ? (
        <small id={`${id}-help`} class="help">
          {help}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} class="error">
          {error}
        </small>
      ) : null}
    </p>
  );
}

/** A labelled select of `options` (value, text), with an empty "any" choice when `any` is given. */
export function Select({
  label,
  name,
  options,
  value,
  any,
}: {
  label: string;
  name: string;
  options: ReadonlyArray<readonly [string, string]>;
  value?: string | undefined;
  any?: string;
}) {
  return (
    <p class="field">
      <label for={`f-${name}`}>{label}</label>
      <select id={`f-${name}`} name={name}>
        {any !== undefined ? <option value="">{any}</option> : null}
        {options.map(([v, text]) => (
          <option value={v} selected={v === value}>
            {text}
          </option>
        ))}
      </select>
    </p>
  );
}
