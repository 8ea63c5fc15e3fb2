/** Read-only views shared by the task, sealing and application pages. */
import { h } from './dom.js';
import { t, tOr, formatDateTime, pick } from './i18n.js';
import { api } from './api.js';
import { facts, statusBadge } from './ui.js';

/** Face data laid out by the type's fields, in the type's order and with its labels. */
export function faceDataView(fields, data = {}) {
  const known = new Set(fields.map((f) => f.key));
  const rows = fields.map((f) => [f.label, valueView(f, data[f.key])]);
  // Keys the type no longer has (an older version's data) still show, under their key.
  for (const [k, v] of Object.entries(data))
    if (!known.has(k)) rows.push([k, valueView({ type: Array.isArray(v) ? 'list' : 'text' }, v)]);
  return h(
    'table',
    { class: 'face-data' },
    h('caption', { class: 'sr-only' }, t('face.caption')),
    h(
      'tbody',
      null,
      rows.map(([label, value]) => h('tr', null, h('th', { scope: 'row' }, label), h('td', null, value))),
    ),
  );
}

function valueView(f, v) {
  if (v === undefined || v === null || v === '') return h('span', { class: 'muted' }, t('face.empty'));
  if (f.type === 'list' && Array.isArray(v))
    return h(
      'ol',
      { class: 'plain-list' },
      v.map((x) => h('li', null, x)),
    );
  if (f.type === 'image' && typeof v === 'string') {
    const src = v.startsWith('data:') ? v : `data:image/png;base64,${v}`;
    return h('img', { src, alt: f.label || '', class: 'face-image' });
  }
  if (f.type === 'idNumber' || f.type === 'creditCode') return h('span', { class: 'mono' }, String(v));
  return String(v);
}

/** History entries: { kind, actor, step, comment, at } (tolerating a few other spellings). */
export function historyView(history = []) {
  if (!history.length) return h('p', { class: 'muted' }, t('history.none'));
  return h(
    'ol',
    { class: 'timeline' },
    history.map((e) => {
      const kind = e.kind || e.event || e.type || e.decision || '';
      const who = e.actorName || e.actor || e.by || e.decidedBy || '';
      const actor = typeof who === 'object' ? who.name || who.id || '' : who;
      const step = e.stepName || e.step || '';
      const at = e.at || e.createdAt || e.decidedAt || '';
      return h(
        'li',
        { class: `timeline-item timeline-${kind}` },
        h(
          'div',
          { class: 'timeline-head' },
          h('strong', null, tOr(`event.${kind}`, kind)),
          step ? h('span', null, ` · ${step}`) : null,
          actor ? h('span', null, ` · ${actor}`) : null,
          at ? h('time', { datetime: at, class: 'muted' }, ` ${formatDateTime(at)}`) : null,
        ),
        e.comment ? h('blockquote', { class: 'timeline-comment' }, e.comment) : null,
      );
    }),
  );
}

/** The type's fields for an application's (code, version); cached per page load. */
const typeCache = new Map();
export async function loadType(code, version) {
  const key = `${code}@${version ?? 'latest'}`;
  if (!typeCache.has(key)) {
    typeCache.set(
      key,
      api(`/certificate-types/${encodeURIComponent(code)}`, { query: { version } }).catch((err) => {
        typeCache.delete(key);
        throw err;
      }),
    );
  }
  return typeCache.get(key);
}

/**
 * The type an application or certificate was made under, and its fields. When it cannot be
 * loaded the page still shows what it has (keys instead of labels); `messages`, if given, says why.
 */
export async function loadTypeFields(code, version, messages) {
  try {
    const type = await loadType(code, version);
    return { type, fields: fieldsOf(type) };
  } catch (err) {
    messages?.error(err);
    return { type: null, fields: [] };
  }
}

/** Full field definitions (labels, types) of a type detail answer. */
export function fieldsOf(type) {
  return (type && type.definition && type.definition.faceFields) || (type && type.faceFields) || [];
}

export function holderText(holder) {
  if (!holder) return '—';
  const kind = holder.kind ? tOr(`holder.kind.${holder.kind}`, holder.kind) : '';
  const id = holder.idMasked || holder.maskedId || holder.id || '';
  return [holder.name, id && `${id}`, kind && `(${kind})`].filter(Boolean).join(' ');
}

/** The application's key facts: number, type, holder, status, step, submitter, times. */
export function applicationFacts(app, type) {
  const step = app.currentStep;
  const stepText = step ? (typeof step === 'string' ? step : step.name || step.stepName || step.key || '') : '';
  return facts([
    [t('app.id'), h('span', { class: 'mono' }, app.id)],
    [
      t('app.type'),
      type
        ? `${type.name || type.definition?.name || app.typeCode} (${app.typeCode}${app.typeVersion ? ` v${app.typeVersion}` : ''})`
        : app.typeCode,
    ],
    [t('app.holder'), holderText(app.holder)],
    [t('app.status'), app.status ? statusBadge('application', app.status) : '—'],
    stepText ? [t('app.currentStep'), stepText] : null,
    app.submitter || app.submittedBy
      ? [t('app.submitter'), pick(app.submitter?.name ?? app.submittedBy) || app.submitter?.id || '']
      : null,
    app.mode ? [t('app.mode'), tOr(`mode.${app.mode}`, app.mode)] : null,
    app.createdAt ? [t('app.createdAt'), formatDateTime(app.createdAt)] : null,
    // The number is allocated before the certificate is stored; link it once it is issued.
    app.certificateNumber
      ? [
          t('app.certificate'),
          app.status === 'issued'
            ? h(
                'a',
                { href: `/certificates/${encodeURIComponent(app.certificateNumber)}`, class: 'mono' },
                app.certificateNumber,
              )
            : h('span', { class: 'mono' }, app.certificateNumber),
        ]
      : null,
  ]);
}
