import { h } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import { pageHeader, table, statusBadge, field } from '../ui.js';

export const title = () => t('types.title');

const STATUSES = ['draft', 'published', 'retired'];

/** The certificate types of the departments this admin runs. */
export async function render(main, { query, navigate }) {
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const depts = departmentsWith(['department-admin']);
  const types = itemsOf(await api('/certificate-types', { query: { status: status || undefined } })).filter(
    (x) => depts === null || depts.includes(x.department),
  );
  const statusSelect = h(
    'select',
    {
      onchange: () =>
        navigate(statusSelect.value ? `/admin/types?status=${statusSelect.value}` : '/admin/types', { replace: true }),
    },
    h('option', { value: '' }, t('types.allStatuses')),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, t(`status.type.${s}`))),
  );
  main.append(
    pageHeader(t('types.title'), h('a', { href: '/admin/types/new', class: 'btn btn-primary' }, t('types.create'))),
    h('div', { class: 'filters' }, field(t('types.status'), statusSelect).el),
    table(
      [
        {
          label: t('types.col.code'),
          cell: (x) => h('a', { href: `/admin/types/${encodeURIComponent(x.code)}`, class: 'mono' }, x.code),
        },
        {
          label: t('types.col.name'),
          cell: (x) => h('a', { href: `/admin/types/${encodeURIComponent(x.code)}` }, x.name),
        },
        { label: t('types.col.department'), cell: (x) => x.department },
        { label: t('types.col.status'), cell: (x) => statusBadge('type', x.status) },
        { label: t('types.col.version'), cell: (x) => `v${x.latestVersion}` },
        { label: t('types.col.published'), cell: (x) => (x.publishedVersion ? `v${x.publishedVersion}` : '—') },
        { label: t('types.col.updated'), cell: (x) => formatDateTime(x.updatedAt) },
      ],
      types,
      { caption: t('types.title'), empty: t('types.empty') },
    ),
  );
}
