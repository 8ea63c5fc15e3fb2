import { h, fill } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { pageHeader, messageArea, table, statusBadge, field, loading, button, busy } from '../ui.js';

export const title = () => t('apps.title');

export const APPLICATION_STATUSES = [
  'in-review',
  'returned',
  'sealing',
  'issued',
  'rejected',
  'withdrawn',
  'failed',
  'cancelled',
];

/** The filler's own applications, newest first; a returned one says so loudly. */
export async function render(main, { query, navigate }) {
  const status = APPLICATION_STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const messages = messageArea();
  const statusSelect = h(
    'select',
    {
      onchange: () =>
        navigate(statusSelect.value ? `/applications?status=${statusSelect.value}` : '/applications', {
          replace: true,
        }),
    },
    h('option', { value: '' }, t('apps.allStatuses')),
    APPLICATION_STATUSES.map((s) => h('option', { value: s, selected: s === status }, t(`status.application.${s}`))),
  );
  const list = h('div', null, loading());
  const more = h('div', { class: 'more' });
  main.append(
    pageHeader(
      t('apps.title'),
      h('a', { href: '/applications/new', class: 'btn btn-primary' }, t('nav.newApplication')),
    ),
    messages.el,
    h('div', { class: 'filters' }, field(t('apps.status'), statusSelect).el),
    list,
    more,
  );
  const rows = [];
  async function load(before) {
    let body;
    try {
      body = await api('/applications', { query: { mine: 'true', status: status || undefined, before } });
    } catch (err) {
      fill(list);
      messages.error(err);
      return;
    }
    rows.push(...itemsOf(body));
    fill(
      list,
      table(
        [
          {
            label: t('apps.col.id'),
            cell: (a) => h('a', { href: `/applications/${encodeURIComponent(a.id)}`, class: 'mono' }, a.id.slice(0, 8)),
          },
          { label: t('apps.col.type'), cell: (a) => a.typeName || a.typeCode },
          { label: t('apps.col.holder'), cell: (a) => a.holderName || a.holder?.name || '' },
          { label: t('apps.col.status'), cell: (a) => statusBadge('application', a.status) },
          { label: t('apps.col.created'), cell: (a) => formatDateTime(a.createdAt) },
          { label: t('apps.col.updated'), cell: (a) => formatDateTime(a.updatedAt) },
          {
            label: t('inbox.col.actions'),
            cell: (a) =>
              a.status === 'returned'
                ? h(
                    'a',
                    { href: `/applications/${encodeURIComponent(a.id)}`, class: 'btn btn-small btn-primary' },
                    t('apps.amend'),
                  )
                : a.certificateNumber
                  ? h(
                      'a',
                      { href: `/verify/${encodeURIComponent(a.certificateNumber)}`, class: 'mono' },
                      a.certificateNumber,
                    )
                  : h(
                      'a',
                      { href: `/applications/${encodeURIComponent(a.id)}`, class: 'btn btn-small btn-secondary' },
                      t('inbox.view'),
                    ),
          },
        ],
        rows,
        {
          caption: t('apps.title'),
          empty: t('apps.empty'),
          rowClass: (a) => (a.status === 'returned' ? 'row-attention' : undefined),
        },
      ),
    );
    const next = body && body.nextBefore;
    fill(more, next ? button(t('common.more'), (e) => busy(e.currentTarget, () => load(next))) : null);
  }
  await load();
}
