import { h, fill, uid } from '../dom.js';
import { t, tOr, formatDateTime, relativeTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import { pageHeader, messageArea, table, loading, button, busy, field } from '../ui.js';
import { assignButton, bulkPanel, delegationSection, taskSelection } from './inbox-staff.js';

export const title = () => t('inbox.title');

/** Department admins also see every task of their departments, to reassign them. */
const viewsFor = () =>
  departmentsWith(['department-admin'])?.length !== 0 ? ['mine', 'queue', 'all'] : ['mine', 'queue'];

/** Filters live in the URL, so a reload or a shared link shows the same list. */
/** A holder's request (注销申请 / 异议) opens on its own page; approval steps on the task page. */
const taskHref = (x) =>
  x.requestId ? `/requests/${encodeURIComponent(x.requestId)}` : `/tasks/${encodeURIComponent(x.id)}`;

function readFilters(query) {
  const VIEWS = viewsFor();
  return {
    view: VIEWS.includes(query.get('view')) ? query.get('view') : 'mine',
    status: query.get('status') === 'done' ? 'done' : 'open',
    typeCode: query.get('typeCode') || '',
    overdue: query.get('overdue') === 'true',
    sort: query.get('sort') === 'desc' ? 'desc' : 'asc',
  };
}

function toQuery(f) {
  const q = new URLSearchParams();
  if (f.view !== 'mine') q.set('view', f.view);
  if (f.status !== 'open') q.set('status', f.status);
  if (f.typeCode) q.set('typeCode', f.typeCode);
  if (f.overdue) q.set('overdue', 'true');
  if (f.sort !== 'asc') q.set('sort', f.sort);
  const s = q.toString();
  return s ? `/inbox?${s}` : '/inbox';
}

function sortByDue(items, dir) {
  const key = (x) => (x.dueAt ? new Date(x.dueAt).getTime() : Number.POSITIVE_INFINITY);
  return [...items].sort((a, b) => (dir === 'asc' ? key(a) - key(b) : key(b) - key(a)));
}

export async function render(main, { query, navigate }) {
  const VIEWS = viewsFor();
  const filters = readFilters(query);
  const messages = messageArea();
  const go = (patch) => navigate(toQuery({ ...filters, ...patch }), { replace: true });

  // Types for the filter: those of the departments where the user reviews or seals.
  const depts = departmentsWith(['reviewer', 'sealing-officer', 'department-admin']);
  let types = [];
  try {
    types = itemsOf(await api('/certificate-types')).filter((x) => depts === null || depts.includes(x.department));
  } catch {
    types = [];
  }
  const typeName = (code) => types.find((x) => x.code === code)?.name || code;

  const typeSelect = h(
    'select',
    { onchange: () => go({ typeCode: typeSelect.value }) },
    h('option', { value: '' }, t('inbox.allTypes')),
    types.map((x) => h('option', { value: x.code, selected: x.code === filters.typeCode }, `${x.name} (${x.code})`)),
  );
  const statusSelect = h(
    'select',
    { onchange: () => go({ status: statusSelect.value }) },
    ['open', 'done'].map((s) => h('option', { value: s, selected: s === filters.status }, t(`inbox.status.${s}`))),
  );
  const overdueBox = h('input', {
    type: 'checkbox',
    checked: filters.overdue,
    onchange: () => go({ overdue: overdueBox.checked }),
  });
  const overdueId = uid('overdue');
  overdueBox.id = overdueId;

  const filterBar = h(
    'div',
    { class: 'filters', role: 'group', 'aria-label': t('inbox.filters') },
    field(t('inbox.type'), typeSelect).el,
    field(t('inbox.statusFilter'), statusSelect).el,
    h('div', { class: 'field field-check' }, overdueBox, h('label', { for: overdueId }, t('inbox.overdueOnly'))),
  );

  const panel = h('div', { role: 'tabpanel', class: 'tab-panel' }, loading());
  const tabIds = Object.fromEntries(VIEWS.map((v) => [v, uid(`tab-${v}`)]));
  panel.id = uid('panel');
  panel.setAttribute('aria-labelledby', tabIds[filters.view]);
  const counts = Object.fromEntries(VIEWS.map((v) => [v, h('span', { class: 'count' })]));
  const tabs = VIEWS.map((v) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: tabIds[v],
        class: 'tab',
        'aria-selected': String(v === filters.view),
        'aria-controls': panel.id,
        tabindex: v === filters.view ? '0' : '-1',
        onclick: () => go({ view: v }),
        onkeydown: (e) => {
          if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
          e.preventDefault();
          const next = VIEWS[(VIEWS.indexOf(v) + (e.key === 'ArrowRight' ? 1 : VIEWS.length - 1)) % VIEWS.length];
          go({ view: next }).then(() => document.querySelector(`[role=tab][aria-selected=true]`)?.focus());
        },
      },
      t(`inbox.view.${v}`),
      ' ',
      counts[v],
    ),
  );

  const refresh = button(t('common.refresh'), () => busy(refresh, load));
  // Bulk decisions on the open tasks shown (docs/issuance.md, "Bulk decisions").
  const selection = taskSelection((n) => bulk.setCount(n));
  const bulk = bulkPanel(selection, { messages, onDone: () => load() });
  const bulkable = filters.status === 'open';
  main.append(
    pageHeader(t('inbox.title'), refresh),
    messages.el,
    filterBar,
    h('div', { role: 'tablist', class: 'tabs', 'aria-label': t('inbox.views') }, tabs),
    bulkable ? bulk.el : null,
    panel,
    delegationSection(messages),
  );

  async function claim(task, btn) {
    await busy(btn, async () => {
      try {
        await api(`/tasks/${encodeURIComponent(task.id)}/claim`, { json: {} });
        messages.show('success', t('inbox.claimed'));
        await load();
      } catch (err) {
        messages.error(err, 'claim');
      }
    });
  }

  async function load() {
    const base = {
      status: filters.status,
      typeCode: filters.typeCode || undefined,
      overdue: filters.overdue ? 'true' : undefined,
    };
    let results;
    try {
      results = await Promise.all(VIEWS.map((view) => api('/tasks', { query: { ...base, view } })));
    } catch (err) {
      fill(panel);
      messages.error(err);
      return;
    }
    VIEWS.forEach((v, i) => {
      const body = results[i];
      const n = typeof body?.total === 'number' ? body.total : itemsOf(body).length;
      fill(counts[v], `(${n})`);
      counts[v].setAttribute('aria-label', t('inbox.count', { n }));
    });
    // Nothing claimed yet: open on the queue, where the work is (unless a view was asked for).
    if (
      !query.has('view') &&
      filters.view === 'mine' &&
      itemsOf(results[0]).length === 0 &&
      itemsOf(results[1]).length > 0
    ) {
      go({ view: 'queue' });
      return;
    }
    const items = sortByDue(itemsOf(results[VIEWS.indexOf(filters.view)]), filters.sort);
    const dueSort = filters.sort === 'asc' ? 'ascending' : 'descending';
    selection.reset();
    const selectColumn = {
      label: selection.header,
      class: 'col-select',
      // Holders' requests are decided on their own page, one by one.
      cell: (x) => (x.requestId ? '' : selection.cell(x, x.holderName || String(x.id))),
    };
    fill(
      panel,
      table(
        [
          ...(bulkable ? [selectColumn] : []),
          {
            label: t('inbox.col.application'),
            cell: (x) =>
              h(
                'a',
                { href: taskHref(x), class: 'mono' },
                x.requestId ? t('inbox.request', { id: x.requestId }) : String(x.applicationId || x.id).slice(0, 8),
              ),
          },
          { label: t('inbox.col.type'), cell: (x) => typeName(x.typeCode) },
          { label: t('inbox.col.holder'), cell: (x) => x.holderName || '' },
          { label: t('inbox.col.step'), cell: (x) => x.stepName || x.stepKey || '' },
          { label: t('inbox.col.role'), cell: (x) => tOr(`role.${x.role}`, x.role || '') },
          { label: t('inbox.col.department'), cell: (x) => x.department || '' },
          {
            label: t('inbox.col.due'),
            sort: dueSort,
            onSort: () => go({ sort: filters.sort === 'asc' ? 'desc' : 'asc' }),
            cell: (x) => [
              x.dueAt
                ? h(
                    'span',
                    null,
                    h('time', { datetime: x.dueAt }, formatDateTime(x.dueAt)),
                    h('span', { class: 'muted' }, ` (${relativeTime(x.dueAt)})`),
                    x.overdue ? h('span', { class: 'badge badge-overdue' }, t('inbox.overdue')) : null,
                  )
                : '—',
              // The date someone set to look at it again (PUT /tasks/:id/follow-up).
              x.followUpAt
                ? h('div', { class: 'muted' }, t('inbox.followUp', { date: formatDateTime(x.followUpAt) }))
                : null,
            ],
          },
          {
            label: t('inbox.col.assignee'),
            cell: (x) => [
              x.assignee
                ? x.assignee.name || x.assignee.username || x.assignee.displayName || String(x.assignee)
                : h('span', { class: 'muted' }, t('inbox.unassigned')),
              // A delegate works this task for the colleague it belongs to.
              x.standIn ? h('span', { class: 'badge' }, t('inbox.standIn', { name: x.standIn })) : null,
            ],
          },
          {
            label: t('inbox.col.actions'),
            cell: (x) => {
              const open = h(
                'a',
                { href: taskHref(x), class: 'btn btn-small btn-primary' },
                filters.status === 'open' ? t('inbox.handle') : t('inbox.view'),
              );
              const assign = filters.status === 'open' ? assignButton(x, { messages, onDone: load }) : null;
              if (filters.view !== 'queue' || x.assignee || filters.status !== 'open')
                return assign ? h('span', { class: 'actions' }, open, assign) : open;
              const c = button(t('inbox.claim'), () => claim(x, c), { kind: 'small btn-secondary' });
              return h('span', { class: 'actions' }, open, c, assign);
            },
          },
        ],
        items,
        {
          caption: t(`inbox.view.${filters.view}`),
          empty: t(filters.view === 'mine' ? 'inbox.emptyMine' : 'inbox.emptyQueue'),
          rowClass: (x) => (x.overdue ? 'row-overdue' : undefined),
        },
      ),
    );
  }
  await load();
}
