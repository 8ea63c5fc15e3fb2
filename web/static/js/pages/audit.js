import { h, fill } from '../dom.js';
import { t, tOr, formatDateTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { pageHeader, section, messageArea, table, field, busy, button } from '../ui.js';

export const title = () => t('audit.title');

const CATEGORIES = [
  'login',
  'logout',
  'operation',
  'authorization',
  'configuration',
  'storing',
  'sealing',
  'revocation',
  'verification',
  'api-call',
];
const OUTCOMES = ['success', 'failure', 'denied'];
const FILTERS = ['category', 'outcome', 'actor', 'objectId'];

/** The audit admin's view of the hash-chained log: filter, page back in time, verify the chain. */
export async function render(main, { query, navigate }) {
  const messages = messageArea();
  const c = {
    category: h(
      'select',
      null,
      h('option', { value: '' }, t('audit.all')),
      CATEGORIES.map((x) =>
        h('option', { value: x, selected: x === query.get('category') }, tOr(`audit.category.${x}`, x)),
      ),
    ),
    outcome: h(
      'select',
      null,
      h('option', { value: '' }, t('audit.all')),
      OUTCOMES.map((x) => h('option', { value: x, selected: x === query.get('outcome') }, t(`audit.outcome.${x}`))),
    ),
    actor: h('input', { type: 'text', value: query.get('actor') || '', spellcheck: 'false' }),
    objectId: h('input', { type: 'text', value: query.get('objectId') || '', spellcheck: 'false' }),
  };
  const filters = h(
    'form',
    {
      class: 'filters',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const k of FILTERS) if (c[k].value.trim()) q.set(k, c[k].value.trim());
        navigate(`/audit${q.toString() ? `?${q}` : ''}`, { replace: true });
      },
    },
    field(t('audit.col.category'), c.category).el,
    field(t('audit.col.outcome'), c.outcome).el,
    field(t('audit.col.actor'), c.actor).el,
    field(t('audit.col.object'), c.objectId).el,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('certs.search')),
  );

  const chain = h('div', { 'aria-live': 'polite' });
  const verify = button(t('audit.verify'), () =>
    busy(verify, async () => {
      try {
        const r = await api('/audit/verify');
        fill(
          chain,
          r.ok
            ? h('p', { class: 'msg msg-success' }, t('audit.chainOk', { n: r.entries }))
            : h(
                'p',
                { class: 'msg msg-error', role: 'alert' },
                t('audit.chainBroken', { seq: r.firstBroken?.seq, reason: r.firstBroken?.reason ?? '' }),
              ),
        );
      } catch (err) {
        messages.error(err);
      }
    }),
  );

  const list = h('div');
  const more = h('div', { class: 'more' });
  main.append(
    pageHeader(t('audit.title'), verify),
    messages.el,
    chain,
    filters,
    section(t('audit.entries'), list, more),
  );

  const rows = [];
  async function load(cursor) {
    const q = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || undefined]));
    let body;
    try {
      body = await api('/audit', { query: { ...q, cursor, limit: 100 } });
    } catch (err) {
      messages.error(err);
      return;
    }
    rows.push(...itemsOf(body));
    fill(
      list,
      table(
        [
          { label: '#', cell: (e) => String(e.seq) },
          { label: t('audit.col.at'), cell: (e) => formatDateTime(e.at) },
          { label: t('audit.col.category'), cell: (e) => tOr(`audit.category.${e.category}`, e.category) },
          { label: t('audit.col.action'), cell: (e) => h('code', null, e.action) },
          {
            label: t('audit.col.outcome'),
            cell: (e) => h('span', { class: `badge badge-audit-${e.outcome}` }, t(`audit.outcome.${e.outcome}`)),
          },
          {
            label: t('audit.col.actor'),
            cell: (e) =>
              [e.actorName || e.actorId || '', e.actorType && e.actorType !== 'user' ? ` (${e.actorType})` : ''].join(
                '',
              ),
          },
          { label: t('audit.col.department'), cell: (e) => e.department || '—' },
          { label: t('audit.col.object'), cell: (e) => (e.objectType ? `${e.objectType} ${e.objectId ?? ''}` : '—') },
          { label: t('audit.col.ip'), cell: (e) => e.ip || '' },
        ],
        rows,
        {
          caption: t('audit.entries'),
          empty: t('audit.empty'),
          rowClass: (e) => (e.outcome === 'success' ? undefined : 'row-attention'),
        },
      ),
    );
    fill(
      more,
      body && body.nextCursor
        ? button(t('common.more'), (e) => busy(e.currentTarget, () => load(body.nextCursor)))
        : null,
    );
  }
  await load();
}
