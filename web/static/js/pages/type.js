import { h, fill, uid } from '../dom.js';
import { t, tOr, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import {
  pageHeader,
  section,
  messageArea,
  facts,
  table,
  statusBadge,
  busy,
  button,
  confirmDialog,
  pdfViewer,
  field,
} from '../ui.js';
import { translateMessage, describeError } from '../errors.js';

export const title = (ctx) => `${t('type.title')} ${ctx.params.code}`;

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

export function validityText(v) {
  if (!v) return '—';
  if (v.kind === 'permanent') return t('validity.permanent');
  if (v.kind === 'term') return t('validity.termText', { months: v.months });
  if (v.kind === 'until') return t('validity.untilText', { date: v.date });
  return v.kind;
}

function constraints(f) {
  const parts = [];
  if (f.minLength !== undefined) parts.push(t('fieldc.minLength', { n: f.minLength }));
  if (f.maxLength !== undefined) parts.push(t('fieldc.maxLength', { n: f.maxLength }));
  if (f.pattern) parts.push(t('fieldc.pattern', { p: f.pattern }));
  if (f.min !== undefined) parts.push(t('fieldc.min', { n: f.min }));
  if (f.max !== undefined) parts.push(t('fieldc.max', { n: f.max }));
  if (f.options) parts.push(t('fieldc.options', { list: f.options.join('、') }));
  if (f.maxItems !== undefined) parts.push(t('fieldc.maxItems', { n: f.maxItems }));
  return parts.join('；') || '—';
}

/** The tag-check result of a template: one row per tag, saying what is wrong with it. */
export function templateProblemsTable(problems) {
  return table(
    [
      { label: t('template.col.tag'), cell: (p) => h('code', null, p.field ?? p.tag) },
      { label: t('template.col.problem'), cell: (p) => translateMessage(p.message) },
    ],
    problems,
    { caption: t('template.problems') },
  );
}

export async function render(main, { params, query, navigate }) {
  const code = params.code;
  const version = Number(query.get('version')) || undefined;
  const type = await api(`/certificate-types/${encodeURIComponent(code)}`, { query: { version } });
  const def = type.definition || {};
  const isLatest = type.version === type.latestVersion;
  const messages = messageArea();
  const here = (v, extra = '') => `/admin/types/${encodeURIComponent(code)}?version=${v}${extra}`;

  if (query.get('uploaded')) messages.show('success', t('template.uploaded', { version: type.version }));
  if (query.get('published')) messages.show('success', t('type.publishedMsg', { version: type.publishedVersion }));
  if (query.get('retired')) messages.show('success', t('type.retiredMsg'));
  if (query.get('saved')) messages.show('success', t('type.savedMsg', { version: type.version }));

  // Status changes: publish the latest version, or retire the type.
  const actions = [];
  if (type.status !== 'retired') {
    actions.push(
      h('a', { href: `/admin/types/${encodeURIComponent(code)}/edit`, class: 'btn btn-secondary' }, t('type.edit')),
    );
    if (type.publishedVersion !== type.latestVersion) {
      const publish = button(
        t('type.publish', { version: type.latestVersion }),
        () =>
          busy(publish, async () => {
            const ok = await confirmDialog({
              title: t('type.publishTitle', { version: type.latestVersion }),
              body: t('type.publishBody'),
              confirmLabel: t('type.publishShort'),
            });
            if (!ok) return;
            try {
              await api(`/certificate-types/${encodeURIComponent(code)}/publish`, { method: 'POST' });
              navigate(here(type.latestVersion, '&published=1'), { replace: true });
            } catch (err) {
              const d = messages.error(err, undefined, (f) => f);
              if (err.status === 422 && err.errors.length && !/template|sealId/.test(err.errors[0].field)) {
                messages.el.append(templateProblemsTable(err.errors));
              }
              return d;
            }
          }),
        { kind: 'primary' },
      );
      actions.push(publish);
    }
    if (type.status === 'published') {
      const retire = button(
        t('type.retire'),
        () =>
          busy(retire, async () => {
            const ok = await confirmDialog({
              title: t('type.retireTitle'),
              body: t('type.retireBody'),
              confirmLabel: t('type.retire'),
              danger: true,
            });
            if (!ok) return;
            try {
              await api(`/certificate-types/${encodeURIComponent(code)}/retire`, { method: 'POST' });
              navigate(here(type.latestVersion, '&retired=1'), { replace: true });
            } catch (err) {
              messages.error(err);
            }
          }),
        { kind: 'danger' },
      );
      actions.push(retire);
    }
  }

  const versionSelect = h(
    'select',
    { onchange: () => navigate(here(versionSelect.value), { replace: true }) },
    Array.from({ length: type.latestVersion }, (_, i) => type.latestVersion - i).map((v) =>
      h(
        'option',
        { value: v, selected: v === type.version },
        [
          `v${v}`,
          v === type.publishedVersion ? ` · ${t('type.published')}` : '',
          v === type.latestVersion ? ` · ${t('type.latest')}` : '',
        ].join(''),
      ),
    ),
  );

  const summary = facts([
    [t('type.code'), h('span', { class: 'mono' }, type.code)],
    [t('type.department'), type.department],
    [t('type.status'), statusBadge('type', type.status)],
    [t('type.holderKind'), tOr(`holder.kind.${def.holderKind}`, def.holderKind)],
    [t('type.validity'), validityText(def.validity)],
    [t('type.seal'), def.sealId ? `#${def.sealId}` : t('type.defaultSeal')],
    [
      t('type.versions'),
      t('type.versionsText', {
        latest: type.latestVersion,
        published: type.publishedVersion ? `v${type.publishedVersion}` : t('type.none'),
      }),
    ],
    [t('type.updated'), formatDateTime(type.updatedAt)],
    def.description ? [t('type.description'), def.description] : null,
  ]);

  const fieldsTable = table(
    [
      { label: t('fields.col.key'), cell: (f) => h('code', null, f.key) },
      { label: t('fields.col.label'), cell: (f) => f.label },
      { label: t('fields.col.type'), cell: (f) => tOr(`ftype.${f.type}`, f.type) },
      { label: t('fields.col.required'), cell: (f) => (f.required ? t('common.yes') : t('common.no')) },
      { label: t('fields.col.constraints'), cell: (f) => constraints(f) },
      {
        label: t('fields.col.catalog'),
        cell: (f) =>
          [f.catalog ? t('fields.catalog') : null, f.duplicate ? t('fields.duplicate') : null]
            .filter(Boolean)
            .join('、') || '—',
      },
    ],
    def.faceFields || type.faceFields || [],
    { caption: t('type.faceFields') },
  );

  const chain = def.approvalChain || [];
  const chainTable = chain.length
    ? table(
        [
          { label: '#', cell: (s) => String(chain.indexOf(s) + 1) },
          { label: t('chain.col.key'), cell: (s) => h('code', null, s.key) },
          { label: t('chain.col.name'), cell: (s) => s.name },
          { label: t('chain.col.role'), cell: (s) => tOr(`role.${s.role}`, s.role) },
          {
            label: t('chain.col.deadline'),
            cell: (s) => (s.deadlineHours ? t('chain.hours', { n: s.deadlineHours }) : '—'),
          },
          { label: t('chain.col.escalate'), cell: (s) => (s.escalate ? t('common.yes') : t('common.no')) },
        ],
        chain,
        { caption: t('type.chain') },
      )
    : h('p', { class: 'muted' }, t('chain.autoSeal'));

  main.append(
    pageHeader(`${type.name}`, ...actions),
    messages.el,
    h(
      'div',
      { class: 'filters' },
      field(t('type.version'), versionSelect).el,
      !isLatest ? h('p', { class: 'msg msg-info inline' }, t('type.oldVersion', { version: type.version })) : null,
    ),
    section(t('type.basics'), summary),
    section(t('type.faceFields'), fieldsTable),
    section(t('type.chain'), chainTable),
    templateSection(type, { isLatest, navigate, here }),
    previewSection(type),
  );
}

function templateSection(type, { isLatest, navigate, here }) {
  const code = type.code;
  const status = h('div');
  if (!type.template) fill(status, h('p', { class: 'msg msg-warning inline' }, t('template.none')));
  else if (type.template.problems && type.template.problems.length)
    fill(
      status,
      h('p', { class: 'msg msg-error inline' }, t('template.hasProblems')),
      templateProblemsTable(type.template.problems),
    );
  else
    fill(
      status,
      h('p', { class: 'msg msg-success inline' }, t('template.ok')),
      h('p', { class: 'muted small' }, 'SHA-256 ', h('code', null, type.template.sha256)),
    );

  const result = h('div', { class: 'upload-result', 'aria-live': 'polite' });
  const file = h('input', { type: 'file', accept: `.docx,${DOCX}`, name: 'template' });
  const fFile = field(t('template.file'), file, { hint: t('template.fileHint') });
  const upload = h('button', { type: 'submit', class: 'btn btn-primary' }, t('template.upload'));
  const messages = messageArea();
  const form = h(
    'form',
    {
      class: 'upload-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        fill(result);
        fFile.setError(null);
        const f = file.files && file.files[0];
        if (!f) {
          fFile.setError(t('template.chooseFile'));
          file.focus();
          return;
        }
        await busy(upload, async () => {
          try {
            const saved = await api(`/certificate-types/${encodeURIComponent(code)}/template`, { body: f, type: DOCX });
            navigate(here(saved.version, '&uploaded=1'), { replace: true });
          } catch (err) {
            const d = describeError(err, 'template');
            messages.show('error', d.message);
            if (err.errors && err.errors.length) fill(result, templateProblemsTable(err.errors));
            else if (d.detail) fill(result, h('p', { class: 'muted' }, d.detail));
            messages.el.querySelector('[role=alert]')?.focus();
          }
        });
      },
    },
    fFile.el,
    h('div', { class: 'form-actions' }, upload),
  );

  const download = type.template
    ? button(t('template.download'), async (e) => {
        const btn = e.currentTarget;
        await busy(btn, async () => {
          try {
            const blob = await api(`/certificate-types/${encodeURIComponent(code)}/template`, {
              query: { version: type.version },
              accept: DOCX,
            });
            const a = h('a', { href: URL.createObjectURL(blob), download: `${code}-v${type.version}.docx` });
            document.body.append(a);
            a.click();
            a.remove();
          } catch (err) {
            messages.error(err);
          }
        });
      })
    : null;

  return section(
    t('template.title'),
    status,
    download,
    type.status !== 'retired' && isLatest
      ? h(
          'div',
          { class: 'subsection' },
          h('h3', null, t('template.uploadTitle')),
          h('p', { class: 'hint' }, t('template.uploadHint')),
          form,
          messages.el,
          result,
        )
      : null,
  );
}

function previewSection(type) {
  const out = h('div');
  const messages = messageArea();
  const id = uid('preview');
  const btn = button(t('type.preview'), () =>
    busy(btn, async () => {
      messages.clear();
      fill(out, h('p', { class: 'loading', role: 'status' }, t('preview.rendering')));
      try {
        const blob = await api(`/certificate-types/${encodeURIComponent(type.code)}/preview`, {
          query: { version: type.version },
          json: {},
          accept: 'application/pdf, application/problem+json',
        });
        fill(
          out,
          pdfViewer(blob, {
            title: t('type.previewFrame', { name: type.name, version: type.version }),
            filename: `${type.code}-v${type.version}-preview.pdf`,
          }),
        );
      } catch (err) {
        fill(out);
        messages.error(err);
      }
    }),
  );
  btn.id = id;
  return section(
    t('type.previewTitle'),
    h('p', { class: 'hint' }, t('type.previewHint')),
    type.template ? btn : h('p', { class: 'muted' }, t('template.none')),
    messages.el,
    out,
  );
}
