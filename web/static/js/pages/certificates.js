import { h, fill } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { pageHeader, section, messageArea, table, field, busy, button, statusBadge } from '../ui.js';

export const title = () => t('certs.title');

export const CERTIFICATE_STATUSES = ['valid', 'suspended', 'withdrawn', 'cancelled', 'expired', 'revoked'];
const FILTERS = ['holderId', 'typeCode', 'department', 'region', 'status', 'issuedFrom', 'issuedTo', 'reason'];

/**
 * Certificate search for handlers and admins (GET /certificates?holderId=&typeCode=&…),
 * and a direct look-up by number. Filters live in the URL.
 */
/**
 * For another department's certificate: may it be fetched at once (无条件共享), after an access
 * request (有条件共享; a live grant also lets it be fetched), or never (docs/sharing.md)?
 */
function sharingMark(x) {
  const condition = x.sharing?.condition;
  if (condition === 'unconditional') return h('span', { class: 'badge badge-fetch-now' }, t('certs.fetchNow'));
  if (condition === 'conditional')
    return h('a', { href: `/sharing?number=${encodeURIComponent(x.number)}`, class: 'badge' }, t('certs.needsRequest'));
  if (condition === 'not-shared') return h('span', { class: 'badge' }, t('certs.notShared'));
  return null;
}

export async function render(main, { query, navigate }) {
  const messages = messageArea();
  const number = h('input', { type: 'text', class: 'mono', spellcheck: 'false', autocomplete: 'off' });
  const fNumber = field(t('certs.number'), number, { hint: t('certs.numberHint') });
  const lookup = h(
    'form',
    {
      class: 'inline-form',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const n = number.value.trim();
        if (!n) {
          fNumber.setError(t('v.required'));
          number.focus();
          return;
        }
        navigate(`/certificates/${encodeURIComponent(n.toUpperCase())}`);
      },
    },
    fNumber.el,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('certs.open')),
  );

  let types;
  try {
    types = itemsOf(await api('/certificate-types'));
  } catch {
    types = [];
  }
  const c = {
    holderId: h('input', {
      type: 'text',
      class: 'mono',
      value: query.get('holderId') || '',
      spellcheck: 'false',
      autocomplete: 'off',
    }),
    typeCode: h(
      'select',
      null,
      h('option', { value: '' }, t('inbox.allTypes')),
      types.map((x) =>
        h('option', { value: x.code, selected: x.code === query.get('typeCode') }, `${x.name} (${x.code})`),
      ),
    ),
    department: h('input', { type: 'text', value: query.get('department') || '', spellcheck: 'false' }),
    region: h('input', {
      type: 'text',
      value: query.get('region') || '',
      inputmode: 'numeric',
      maxlength: '6',
      class: 'mono',
    }),
    reason: h('input', { type: 'text', value: query.get('reason') || '', maxlength: '200' }),
    status: h(
      'select',
      null,
      h('option', { value: '' }, t('certs.allStatuses')),
      CERTIFICATE_STATUSES.map((s) =>
        h('option', { value: s, selected: s === query.get('status') }, t(`status.certificate.${s}`)),
      ),
    ),
    issuedFrom: h('input', { type: 'date', value: query.get('issuedFrom') || '' }),
    issuedTo: h('input', { type: 'date', value: query.get('issuedTo') || '' }),
  };
  const search = h(
    'form',
    {
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        const q = new URLSearchParams();
        for (const k of FILTERS) if (c[k].value.trim()) q.set(k, c[k].value.trim());
        navigate(`/certificates${q.toString() ? `?${q}` : ''}`, { replace: true });
      },
    },
    h(
      'div',
      { class: 'form-grid' },
      field(t('certs.holderId'), c.holderId, { hint: t('certs.holderIdHint') }).el,
      field(t('inbox.type'), c.typeCode).el,
      field(t('certs.department'), c.department, { hint: t('certs.departmentHint') }).el,
      field(t('certs.region'), c.region, { hint: t('certs.regionHint') }).el,
      field(t('certs.status'), c.status).el,
      field(t('certs.issuedFrom'), c.issuedFrom).el,
      field(t('certs.issuedTo'), c.issuedTo).el,
      field(t('certs.reason'), c.reason, { hint: t('certs.reasonHint'), wide: true }).el,
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('certs.search'))),
  );

  const results = h('div');
  const more = h('div', { class: 'more' });
  main.append(
    pageHeader(t('certs.title')),
    messages.el,
    section(t('certs.lookup'), lookup),
    section(t('certs.searchTitle'), search, results, more),
  );

  const searched = FILTERS.some((k) => query.get(k));
  if (!searched) {
    fill(results, h('p', { class: 'muted' }, t('certs.enterFilters')));
    return;
  }
  const rows = [];
  async function load(cursor) {
    const q = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || undefined]));
    let body;
    try {
      body = await api('/certificates', { query: { ...q, cursor } });
    } catch (err) {
      messages.error(err);
      return;
    }
    rows.push(...itemsOf(body));
    fill(
      results,
      table(
        [
          {
            label: t('certs.number'),
            // Another department's certificate found by holder: listed in the catalog, not readable here.
            cell: (x) =>
              x.access === 'catalog-only'
                ? h(
                    'span',
                    null,
                    h('span', { class: 'mono' }, x.number),
                    h('span', { class: 'badge', title: t('certs.catalogOnlyHint') }, t('certs.catalogOnly')),
                    sharingMark(x),
                  )
                : h('a', { href: `/certificates/${encodeURIComponent(x.number)}`, class: 'mono' }, x.number),
          },
          { label: t('certs.type'), cell: (x) => x.typeName || x.type?.name || x.typeCode || '' },
          {
            label: t('certs.holder'),
            cell: (x) => [x.holderName || x.holder?.name || '', x.holder?.id ? ` ${x.holder.id}` : ''].join('') || '—',
          },
          { label: t('certs.issuer'), cell: (x) => x.issuerName || x.issuer?.name || x.department || '' },
          { label: t('certs.issuedAt'), cell: (x) => formatDate(x.issuedAt) },
          {
            label: t('certs.validUntil'),
            cell: (x) => (x.validUntil ? formatDate(x.validUntil) : t('validity.permanent')),
          },
          { label: t('certs.status'), cell: (x) => statusBadge('certificate', x.status) },
        ],
        rows,
        { caption: t('certs.searchTitle'), empty: t('certs.none') },
      ),
    );
    const next = body && (body.nextCursor ?? null);
    fill(more, next ? button(t('common.more'), (e) => busy(e.currentTarget, () => load(next))) : null);
  }
  await load();
}
