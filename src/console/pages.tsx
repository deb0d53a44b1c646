/** @jsxImportSource hono/jsx */
import { CATEGORIES } from '../core/types.ts';
import type { DistributorCompliance, LagPoint } from '../registry/distributors.ts';
import type { ChainReport, ChangeRecord, Entry, TokenInfo } from '../registry/types.ts';
import { TOKEN_ROLES } from '../registry/types.ts';
import { LagChart } from './lag-chart.tsx';
import { Csrf, Field, NextPage, Notice, nextQuery, Select, Table, type View } from './layout.tsx';

const opts = (values: readonly string[]) => values.map((v) => [v, v] as const);

export function SignInPage({ view, csrf, error }: { view: View; csrf: string; error?: string | undefined }) {
  const { t } = view;
  return (
    <form method="post" action="/console/sign-in" class="sign-in">
      <input type="hidden" name="csrf" value={csrf} />
      {error ? <Notice kind="error">{error}</Notice> : null}
      <Field label={t('tokenLabel')} name="token" type="password" help={t('tokenHelp')} required />
      <p>
        <button type="submit">{t('signIn')}</button>
      </p>
    </form>
  );
}

export function MessagePage({ text }: { text: string }) {
  return <Notice kind="error">{text}</Notice>;
}

export interface EntryFilters {
  q?: string;
  prefix?: string;
  reference?: string;
  category?: string;
  active?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the explain answer, as GET /v1/explain gives it
type Explained = any;

export function EntriesPage({
  view,
  filters,
  entries,
  next,
  target,
  explained,
  error,
}: {
  view: View;
  filters: EntryFilters;
  entries: Entry[];
  next: string | null;
  target?: string | undefined;
  explained?: Explained;
  error?: string | undefined;
}) {
  const { t } = view;
  return (
    <>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <form method="get" action="/console/entries" class="filters" aria-labelledby="search-h">
        <h2 id="search-h">{t('searchEntries')}</h2>
        <Field label={t('prefix')} name="prefix" value={filters.prefix} />
        <Field label={t('contains')} name="q" value={filters.q} />
        <Field label={t('reference')} name="reference" value={filters.reference} />
        <Select
          label={t('category')}
          name="category"
          options={opts(CATEGORIES)}
          value={filters.category}
          any={t('any')}
        />
        <Select
          label={t('active')}
          name="active"
          options={[
            ['true', t('yes')],
            ['false', t('no')],
          ]}
          value={filters.active}
          any={t('any')}
        />
        <p>
          <button type="submit">{t('search')}</button>
        </p>
      </form>
      <Table
        columns={[t('expression'), t('kind'), t('category'), t('active'), t('order')]}
        rows={entries}
        row={(e) => (
          <tr>
            <td>
              <a href={`/console/entries?explain=${encodeURIComponent(`http://${e.expression}`)}`}>
                {e.expression}
              </a>
            </td>
            <td>{e.kind}</td>
            <td>{e.category}</td>
            <td>{e.active ? t('yes') : t('no')}</td>
            <td>{e.orderId ? <a href={`/console/orders/${e.orderId}`}>{e.orderId}</a> : ''}</td>
          </tr>
        )}
        empty={t('none')}
      />
      <NextPage href={next ? `/console/entries?${nextQuery(filters, next)}` : undefined} label={t('next')} />
      <form method="get" action="/console/entries" aria-labelledby="explain-h">
        <h2 id="explain-h">{t('explain')}</h2>
        <Field label="URL" name="explain" value={target} />
        <p>
          <button type="submit">{t('explainButton')}</button>
        </p>
      </form>
      {explained ? (
        <section aria-label={t('explain')} id="explained">
          <p class={explained.blocked ? 'late' : 'ok'}>
            <strong>{explained.blocked ? t('blocked') : t('notBlocked')}</strong> — {explained.canonical}
          </p>
          <h3>{t('expressions')}</h3>
          <ul>
            {explained.expressions.map((e: string) => (
              <li>
                <code>{e}</code>
              </li>
            ))}
          </ul>
          {explained.matches.length > 0 ? (
            <>
              <h3>{t('matches')}</h3>
              <ul>
                {explained.matches.map((m: Explained) => (
                  <li>
                    <code>{m.expression}</code> ({m.kind}, {m.category}) —{' '}
                    {m.orders.map((o: Explained) => (
                      <a href={`/console/orders/${o.id}`}>
                        {o.reference} ({o.authority}){' '}
                      </a>
                    ))}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {explained.enforcement ? (
            <>
              <h3>{t('enforcement')}</h3>
              <ul>
                {explained.enforcement.map((p: Explained) => (
                  <li>
                    {p.point}: {p.blocked ? t('blocks') : t('cannot')} — {p.reason}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      ) : null}
    </>
  );
}

export function AuditPage({
  view,
  chain,
  changes,
  nextAfter,
}: {
  view: View;
  chain: ChainReport;
  changes: ChangeRecord[];
  nextAfter: number | null;
}) {
  const { t } = view;
  return (
    <>
      {chain.ok ? (
        <Notice kind="ok">{t('chainOk', { rows: chain.rows })}</Notice>
      ) : (
        <Notice kind="error">{t('chainBroken', { at: chain.brokenAt ?? '?' })}</Notice>
      )}
      <p>
        {t('export')}: <a href="/console/audit/export?format=csv">{t('exportCsv')}</a> ·{' '}
        <a href="/console/audit/export?format=jsonl">{t('exportJsonl')}</a>
      </p>
      <Table
        columns={[t('seq'), t('version'), t('op'), t('expression'), t('order'), t('actor'), t('reason')]}
        rows={changes}
        row={(ch) => (
          <tr>
            <td>{ch.seq}</td>
            <td>{ch.version}</td>
            <td>{ch.op}</td>
            <td>{ch.expression}</td>
            <td>{ch.orderId ? <a href={`/console/orders/${ch.orderId}`}>{ch.orderRef}</a> : ''}</td>
            <td>{ch.actor}</td>
            <td>{ch.reason}</td>
          </tr>
        )}
      />
      <NextPage
        href={nextAfter !== null ? `/console/audit?after=${nextAfter}` : undefined}
        label={t('next')}
      />
    </>
  );
}

export function IspsPage({
  view,
  version,
  rows,
  history,
  deadlineSeconds,
  now,
}: {
  view: View;
  version: number;
  rows: DistributorCompliance[];
  history: LagPoint[];
  deadlineSeconds: number;
  now: number;
}) {
  const { t } = view;
  return (
    <>
      <p>
        {t('version')}: <strong id="registry-version">{version}</strong>.{' '}
        {t('deadline', { seconds: deadlineSeconds })}
      </p>
      <Table
        id="isps"
        columns={[
          t('distributor'),
          t('feed'),
          t('applied'),
          t('lagVersions'),
          t('lagSeconds'),
          t('lastSeen'),
          t('outputs'),
          t('status'),
        ]}
        rows={rows}
        row={(d) => {
          const late = d.lagSeconds > deadlineSeconds;
          const outputs = (d.outputs ?? []) as Array<{ format: string; ok: boolean }>;
          return (
            <tr class={late ? 'late' : undefined}>
              <td>
                {d.name}
                {d.agentId ? ` / ${d.agentId}` : ''}
              </td>
              <td>{d.feed}</td>
              <td>{d.version}</td>
              <td>{d.lagVersions}</td>
              <td>{d.lagSeconds}</td>
              <td>{d.reportedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
              <td>{outputs.map((o) => `${o.format}${o.ok ? '' : ' ✗'}`).join(', ')}</td>
              <td>{late ? t('late') : t('onTime')}</td>
            </tr>
          );
        }}
        empty={t('noReports')}
      />
      <LagChart
        title={t('lagChart')}
        labels={{ start: t('chartStart'), now: t('chartNow') }}
        history={history}
        deadlineSeconds={deadlineSeconds}
        now={now}
        rows={rows}
      />
    </>
  );
}

export function TokensPage({
  view,
  tokens,
  minted,
  notice,
  error,
}: {
  view: View;
  tokens: TokenInfo[];
  minted?: { token: string; name: string } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const { t } = view;
  return (
    <>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {minted ? (
        <div class="minted" role="status">
          <p>
            {t('minted')} ({minted.name})
          </p>
          <p>
            <output id="minted-token">{minted.token}</output>
          </p>
        </div>
      ) : null}
      <form method="post" action="/console/tokens" aria-labelledby="mint-h">
        <h2 id="mint-h">{t('mint')}</h2>
        <Csrf view={view} />
        <Select label={t('role')} name="role" options={opts(TOKEN_ROLES)} value="regulator" />
        <Field label={t('name')} name="name" required />
        <p>
          <button type="submit">{t('mintButton')}</button>
        </p>
      </form>
      <h2>{t('tokens')}</h2>
      <Table
        columns={[t('id'), t('name'), t('role'), t('created'), t('lastUsed'), t('status')]}
        rows={tokens}
        row={(k) => (
          <tr>
            <td>{k.id}</td>
            <td>{k.name}</td>
            <td>{k.role}</td>
            <td>{k.createdAt}</td>
            <td>{k.lastUsedAt ?? ''}</td>
            <td>
              {k.revokedAt ? (
                `${t('revokedAt')} ${k.revokedAt}`
              ) : (
                <form method="post" action={`/console/tokens/${k.id}/revoke`} class="inline">
                  <Csrf view={view} />
                  <button type="submit" aria-label={`${t('revoke')} ${k.name}`}>
                    {t('revoke')}
                  </button>
                </form>
              )}
            </td>
          </tr>
        )}
      />
    </>
  );
}
