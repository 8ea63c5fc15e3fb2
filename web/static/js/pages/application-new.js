import { h, fill } from '../dom.js';
import { t } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import { pageHeader, messageArea, table, errorSummary, busy, section } from '../ui.js';
import { buildFaceForm } from '../face-form.js';
import { buildHolderForm } from '../holder-form.js';
import { fieldsOf } from '../face-view.js';
import { describeError } from '../errors.js';

export const title = () => t('newApp.title');

/** /applications/new: choose a published type; /applications/new?type=BL: its form. */
export async function render(main, { query, navigate }) {
  const code = query.get('type');
  if (!code) return chooseType(main);
  let type = await api(`/certificate-types/${encodeURIComponent(code)}`);
  // The form follows the published version; a newer draft is not in force yet.
  if (type.publishedVersion && type.publishedVersion !== type.version) {
    type = await api(`/certificate-types/${encodeURIComponent(code)}`, { query: { version: type.publishedVersion } });
  }
  const messages = messageArea();
  if (type.status !== 'published') {
    main.append(pageHeader(t('newApp.heading', { type: type.name })), messages.el);
    messages.show('error', t('newApp.notPublished'));
    return;
  }
  const fields = fieldsOf(type);
  const holderKind = type.definition?.holderKind || 'entity';
  const summary = h('div');
  const holder = buildHolderForm(holderKind);
  const face = buildFaceForm(fields);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('newApp.submit'));

  const form = h(
    'form',
    {
      novalidate: true,
      class: 'app-form',
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        const hr = holder.read();
        const fr = face.read();
        const problems = [...holder.showProblems(hr.problems), ...face.showProblems(fr.problems)];
        errorSummary(summary, problems);
        if (problems.length) return;
        await busy(submit, async () => {
          try {
            const created = await api('/applications', {
              json: { typeCode: type.code, holder: hr.holder, faceData: fr.data },
            });
            navigate(`/applications/${encodeURIComponent(created.id)}?created=1`);
          } catch (err) {
            const server = [...holder.showServerErrors(err.errors || []), ...face.showServerErrors(err.errors || [])];
            if (server.length) errorSummary(summary, server, describeError(err).message);
            else messages.error(err);
          }
        });
      },
    },
    summary,
    section(t('holder.legend', { kind: t(`holder.kind.${holderKind}`) }), holder.el),
    section(t('newApp.faceData'), face.el),
    h(
      'div',
      { class: 'form-actions sticky-actions' },
      submit,
      h('a', { href: '/applications/new', class: 'btn btn-secondary' }, t('common.cancel')),
    ),
  );
  main.append(
    pageHeader(t('newApp.heading', { type: `${type.name} (${type.code})` })),
    type.definition?.description ? h('p', { class: 'muted' }, type.definition.description) : null,
    messages.el,
    form,
  );
}

async function chooseType(main) {
  const depts = departmentsWith(['filler']);
  const types = itemsOf(await api('/certificate-types', { query: { status: 'published' } })).filter(
    (x) => depts === null || depts.includes(x.department),
  );
  const list = h('div');
  main.append(pageHeader(t('newApp.choose')), list);
  fill(
    list,
    table(
      [
        { label: t('types.col.code'), cell: (x) => h('span', { class: 'mono' }, x.code) },
        { label: t('types.col.name'), cell: (x) => x.name },
        { label: t('types.col.department'), cell: (x) => x.department },
        { label: t('types.col.version'), cell: (x) => `v${x.publishedVersion ?? x.latestVersion}` },
        {
          label: t('inbox.col.actions'),
          cell: (x) =>
            h(
              'a',
              {
                href: `/applications/new?type=${encodeURIComponent(x.code)}`,
                class: 'btn btn-small btn-primary',
                'aria-label': t('newApp.fillLabel', { name: x.name }),
              },
              t('newApp.fill'),
            ),
        },
      ],
      types,
      { caption: t('newApp.choose'), empty: t('newApp.noTypes') },
    ),
  );
}
