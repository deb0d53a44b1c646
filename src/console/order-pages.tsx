/** @jsxImportSource hono/jsx */
import { CATEGORIES } from '../core/types.ts';
import type { Order, OrderEntry, TargetResult } from '../registry/types.ts';
import { ORDER_STATUSES } from '../registry/types.ts';
import { Csrf, Field, NextPage, Notice, nextQuery, Select, Table, type View } from './layout.tsx';

const opts = (values: readonly string[]) => values.map((v) => [v, v] as const);
const when = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

export interface OrderFilters {
  status?: string;
  category?: string;
  authority?: string;
  referencePrefix?: string;
  since?: string;
  until?: string;
}

export function OrdersPage({
  view,
  filters,
  orders,
  next,
  error,
}: {
  view: View;
  filters: OrderFilters;
  orders: Order[];
  next: string | null;
  error?: string | undefined;
}) {
  const { t } = view;
  return (
    <>
      <form method="get" action="/console/orders" class="filters" aria-label={t('filter')}>
        <Select
          label={t('status')}
          name="status"
          options={opts(ORDER_STATUSES)}
          value={filters.status}
          any={t('any')}
        />
        <Select
          label={t('category')}
          name="category"
          options={opts(CATEGORIES)}
          value={filters.category}
          any={t('any')}
        />
        <Field label={t('authority')} name="authority" value={filters.authority} />
        <Field label={t('referencePrefix')} name="referencePrefix" value={filters.referencePrefix} />
        <Field label={t('since')} name="since" type="date" value={filters.since} />
        <Field label={t('until')} name="until" type="date" value={filters.until} />
        <p>
          <button type="submit">{t('filter')}</button>
        </p>
      </form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      <Table
        columns={[
          t('id'),
          t('reference'),
          t('authority'),
          t('category'),
          t('status'),
          t('entries'),
          t('created'),
        ]}
        rows={orders}
        row={(o) => (
          <tr>
            <td>
              <a href={`/console/orders/${o.id}`}>{o.id}</a>
            </td>
            <td>
              <a href={`/console/orders/${o.id}`}>{o.reference}</a>
            </td>
            <td>{o.authority}</td>
            <td>{o.category}</td>
            <td class={`status-${o.status}`}>{o.status}</td>
            <td>{o.entryCount}</td>
            <td>{when(o.createdAt)}</td>
          </tr>
        )}
        empty={t('none')}
      />
      <NextPage href={next ? `/console/orders?${nextQuery(filters, next)}` : undefined} label={t('next')} />
    </>
  );
}

export function OrderPage({
  view,
  order,
  entries,
  next,
  canWrite,
  notice,
  error,
}: {
  view: View;
  order: Order;
  entries: OrderEntry[];
  next: string | null;
  canWrite: boolean;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const { t } = view;
  const history: Array<[string, string]> = [
    [
      when(order.createdAt),
      `${t('created')}: ${order.createdBy}${order.version ? ` (v${order.version})` : ''}`,
    ],
  ];
  if (order.approval?.decision)
    history.push([
      when(order.approval.at),
      `${order.approval.decision}: ${order.approval.by ?? ''} ${order.approval.reason ?? ''}`,
    ]);
  if (order.revokedAt)
    history.push([
      when(order.revokedAt),
      `${order.status}: ${order.revokeReason ?? ''}${order.endedVersion ? ` (v${order.endedVersion})` : ''}`,
    ]);
  return (
    <>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <dl class="facts">
        <dt>{t('reference')}</dt>
        <dd>{order.reference}</dd>
        <dt>{t('authority')}</dt>
        <dd>{order.authority}</dd>
        <dt>{t('category')}</dt>
        <dd>{order.category}</dd>
        <dt>{t('action')}</dt>
        <dd>{order.action}</dd>
        <dt>{t('status')}</dt>
        <dd class={`status-${order.status}`} id="order-status">
          {order.status}
        </dd>
        <dt>{t('reason')}</dt>
        <dd>{order.reason ?? ''}</dd>
        <dt>{t('issuedAt')}</dt>
        <dd>{when(order.issuedAt)}</dd>
        <dt>{t('expiresAt')}</dt>
        <dd>{order.expiresAt ? when(order.expiresAt) : t('never')}</dd>
        <dt>{t('entries')}</dt>
        <dd>{order.entryCount}</dd>
      </dl>
      <h2>{t('history')}</h2>
      <ol class="history">
        {history.map(([at, what]) => (
          <li>
            <time>{at}</time> {what}
          </li>
        ))}
      </ol>
      {canWrite && order.status === 'active' ? (
        <div class="actions">
          <form method="post" action={`/console/orders/${order.id}/revoke`} aria-labelledby="revoke-h">
            <h2 id="revoke-h">{t('revokeTitle')}</h2>
            <Csrf view={view} />
            <Field label={t('reason')} name="reason" required />
            <p class="check">
              <input type="checkbox" id="f-release" name="release" value="true" />
              <label for="f-release">{t('release')}</label>
            </p>
            <p>
              <button type="submit">{t('revoke')}</button>
            </p>
          </form>
          <form method="post" action={`/console/orders/${order.id}/extend`} aria-labelledby="extend-h">
            <h2 id="extend-h">{t('extendTitle')}</h2>
            <Csrf view={view} />
            <Field
              label={t('expiresAt')}
              name="expiresAt"
              value={order.expiresAt ?? ''}
              help={t('expiresHelp')}
            />
            <Field label={t('reason')} name="extendReason" />
            <p>
              <button type="submit">{t('extend')}</button>
            </p>
          </form>
        </div>
      ) : null}
      <h2>{t('entries')}</h2>
      <Table
        columns={[t('expression'), t('kind'), t('active'), t('version')]}
        rows={entries}
        row={(e) => (
          <tr>
            <td>{e.expression}</td>
            <td>{e.kind}</td>
            <td>{e.linkStatus === 'active' && e.active ? t('yes') : t('no')}</td>
            <td>{e.firstVersion}</td>
          </tr>
        )}
      />
      <NextPage
        href={next ? `/console/orders/${order.id}?cursor=${encodeURIComponent(next)}` : undefined}
        label={t('next')}
      />
    </>
  );
}

export interface NewOrderForm {
  reference?: string;
  authority?: string;
  category?: string;
  reason?: string;
  expiresAt?: string;
  targets?: string;
}

export interface Preview {
  results: Array<TargetResult & { enforcement?: { points: string[] } }>;
  counts: { added: number; alreadyActive: number; duplicate: number; rejected: number };
  approval: { required: boolean; reasons: Array<{ message: string }> };
}

/** The new-order form, and after "Preview" the per-target results of the dry run beside the form. */
export function NewOrderPage({
  view,
  form,
  errors,
  preview,
}: {
  view: View;
  form: NewOrderForm;
  errors: Record<string, string>;
  preview?: Preview | undefined;
}) {
  const { t } = view;
  const rejected = preview?.results.filter((r) => r.status === 'rejected') ?? [];
  // Rejected targets first: the one to fix must not hide among thousands.
  const rows = preview ? [...rejected, ...preview.results.filter((r) => r.status !== 'rejected')] : [];
  return (
    <>
      {Object.keys(errors).length > 0 ? <Notice kind="error">{t('invalid')}</Notice> : null}
      <form method="post" action="/console/orders/new" enctype="multipart/form-data" class="new-order">
        <Csrf view={view} />
        <Field
          label={t('reference')}
          name="reference"
          value={form.reference}
          error={errors.reference}
          required
        />
        <Field
          label={t('authority')}
          name="authority"
          value={form.authority}
          error={errors.authority}
          required
        />
        <Select label={t('category')} name="category" options={opts(CATEGORIES)} value={form.category} />
        <Field label={t('reason')} name="reason" value={form.reason} error={errors.reason} />
        <Field
          label={t('expiresAt')}
          name="expiresAt"
          value={form.expiresAt}
          help={t('expiresHelp')}
          error={errors.expiresAt}
        />
        <p class="field">
          <label for="f-targets">{t('targets')}</label>
          <textarea
            id="f-targets"
            name="targets"
            rows={12}
            aria-describedby={`f-targets-help${errors.targets ? ' f-targets-error' : ''}`}
            aria-invalid={errors.targets || rejected.length > 0 ? 'true' : undefined}
          >
            {form.targets ?? ''}
          </textarea>
          <small id="f-targets-help" class="help">
            {t('targetsHelp')}
          </small>
          {errors.targets ? (
            <small id="f-targets-error" class="error">
              {errors.targets}
            </small>
          ) : null}
        </p>
        <p class="field">
          <label for="f-file">{t('upload')}</label>
          <input id="f-file" name="file" type="file" accept=".txt,.csv,text/plain" />
        </p>
        <p>
          <button type="submit" name="intent" value="preview">
            {t('preview')}
          </button>{' '}
          <button type="submit" name="intent" value="submit">
            {t('submit')}
          </button>
        </p>
      </form>
      {preview ? (
        <section aria-labelledby="preview-h" id="preview">
          <h2 id="preview-h">{t('previewTitle')}</h2>
          <p role="status" id="preview-summary">
            {preview.results.length}{' '}
            {t('previewSummary', {
              added: preview.counts.added,
              already: preview.counts.alreadyActive,
              duplicate: preview.counts.duplicate,
              rejected: preview.counts.rejected,
            })}
          </p>
          {rejected.length > 0 ? <Notice kind="error">{t('fixErrors')}</Notice> : null}
          {preview.approval.required ? (
            <div>
              <p>{t('needsApproval')}</p>
              <ul>
                {preview.approval.reasons.map((r) => (
                  <li>{r.message}</li>
                ))}
              </ul>
            </div>
          ) : null}
          <Table
            class="preview"
            columns={[t('target'), t('canonical'), t('kind'), t('result'), t('enforcedBy')]}
            rows={rows}
            row={(r) => (
              <tr class={`result-${r.status}`}>
                <td>{r.target}</td>
                <td>{r.expression ?? ''}</td>
                <td>{r.kind ?? ''}</td>
                <td>
                  {r.status}
                  {r.code ? (
                    <span class="error">
                      {' '}
                      {r.code}: {r.message}
                    </span>
                  ) : null}
                </td>
                <td>{r.enforcement?.points.join(', ') ?? ''}</td>
              </tr>
            )}
          />
        </section>
      ) : null}
    </>
  );
}
