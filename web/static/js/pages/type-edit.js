import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import { pageHeader, section, messageArea, field, errorSummary, busy } from '../ui.js';
import { rowList, faceFieldRow, stepRow, num } from '../type-rows.js';
import { describeError } from '../errors.js';

export const title = (ctx) =>
  ctx.params.code ? `${t('typeEdit.editTitle')} ${ctx.params.code}` : t('typeEdit.newTitle');

export async function render(main, { params, navigate }) {
  const editing = !!params.code;
  const existing = editing ? await api(`/certificate-types/${encodeURIComponent(params.code)}`) : null;
  const def = existing?.definition || {
    name: '',
    holderKind: 'entity',
    validity: { kind: 'permanent' },
    faceFields: [],
    approvalChain: [
      { key: 'review', name: t('typeEdit.defaultReview'), role: 'reviewer' },
      { key: 'seal', name: t('typeEdit.defaultSeal'), role: 'sealing-officer' },
    ],
    sealId: null,
  };
  const messages = messageArea();
  const summary = h('div');

  const depts = departmentsWith(['department-admin']) || [];
  let seals;
  try {
    seals = itemsOf(await api('/seals')).filter((s) => s.active);
  } catch {
    seals = [];
  }

  // Basics
  const code = h('input', {
    type: 'text',
    class: 'mono',
    value: existing?.code ?? '',
    disabled: editing,
    spellcheck: 'false',
    autocapitalize: 'characters',
    maxlength: '8',
  });
  const department = h(
    'select',
    { disabled: editing },
    (editing ? [existing.department] : depts).map((d) =>
      h('option', { value: d, selected: d === existing?.department }, d),
    ),
  );
  const name = h('input', { type: 'text', value: def.name });
  const holderKind = h(
    'select',
    null,
    ['entity', 'person'].map((k) => h('option', { value: k, selected: k === def.holderKind }, t(`holder.kind.${k}`))),
  );
  const validityKind = h(
    'select',
    null,
    ['permanent', 'term', 'until'].map((k) =>
      h('option', { value: k, selected: k === def.validity?.kind }, t(`validity.${k}`)),
    ),
  );
  const months = h('input', { type: 'number', min: '1', max: '1200', step: '1', value: def.validity?.months ?? '' });
  const until = h('input', { type: 'date', value: def.validity?.date ?? '' });
  const sealSelect = h(
    'select',
    null,
    h('option', { value: '' }, t('type.defaultSeal')),
    seals.map((s) =>
      h('option', { value: s.id, selected: s.id === def.sealId }, `${s.name} (#${s.id}, ${s.department})`),
    ),
  );
  const description = h('textarea', { rows: '2', value: def.description ?? '' });

  const basics = {
    code: field(t('type.code'), code, { required: !editing, hint: t('typeEdit.codeHint') }),
    department: field(t('type.department'), department, { required: true }),
    name: field(t('typeEdit.name'), name, { required: true }),
    holderKind: field(t('type.holderKind'), holderKind),
    'validity.kind': field(t('type.validity'), validityKind),
    'validity.months': field(t('typeEdit.months'), months),
    'validity.date': field(t('typeEdit.until'), until),
    sealId: field(t('type.seal'), sealSelect),
    description: field(t('type.description'), description, { wide: true }),
  };
  const showValidity = () => {
    basics['validity.months'].el.hidden = validityKind.value !== 'term';
    basics['validity.date'].el.hidden = validityKind.value !== 'until';
  };
  validityKind.addEventListener('change', showValidity);
  showValidity();

  const fieldsEditor = rowList({
    make: faceFieldRow,
    addLabel: t('typeEdit.addField'),
    emptyText: t('typeEdit.noFields'),
  });
  for (const f of def.faceFields || []) fieldsEditor.add(f);
  const chainEditor = rowList({ make: stepRow, addLabel: t('typeEdit.addStep'), emptyText: t('chain.autoSeal') });
  for (const s of def.approvalChain || []) chainEditor.add(s);

  const read = () => {
    const validity =
      validityKind.value === 'term'
        ? { kind: 'term', months: num(months.value) }
        : validityKind.value === 'until'
          ? { kind: 'until', date: until.value }
          : { kind: 'permanent' };
    const body = {
      name: name.value.trim(),
      holderKind: holderKind.value,
      validity,
      faceFields: fieldsEditor.rows.map((r) => r.read()),
      approvalChain: chainEditor.rows.map((r) => r.read()),
      sealId: sealSelect.value ? Number(sealSelect.value) : null,
    };
    if (description.value.trim()) body.description = description.value.trim();
    return body;
  };

  const clearErrors = () => {
    for (const b of Object.values(basics)) b.setError(null);
    for (const r of [...fieldsEditor.rows, ...chainEditor.rows]) r.clearErrors();
  };

  /** Puts each error by its control (paths like faceFields.2.options); returns summary items. */
  const showErrors = (errors) =>
    errors.map((e) => {
      const path = String(e.field || '');
      const m = /^(faceFields|approvalChain)\.(\d+)(?:\.(\w+))?/.exec(path);
      if (m) {
        const rows = m[1] === 'faceFields' ? fieldsEditor.rows : chainEditor.rows;
        const row = rows[Number(m[2])];
        if (row)
          return {
            id: row.setError(m[3] || null, e.message),
            label: `${row.label()}${m[3] ? ` · ${t(m[1] === 'faceFields' ? `fieldprop.${m[3]}` : `stepprop.${m[3]}`)}` : ''}`,
            message: e.message,
          };
      }
      const b = basics[path] || (path.startsWith('validity') ? basics['validity.kind'] : null);
      if (b) {
        b.setError(e.message);
        return {
          id: b.control.id,
          label: b.el.querySelector('label')?.firstChild?.textContent || path,
          message: e.message,
        };
      }
      if (path === 'faceFields') return { id: null, label: t('type.faceFields'), message: e.message };
      return { id: null, label: path || t('typeEdit.form'), message: e.message };
    });

  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary' },
    editing ? t('typeEdit.saveVersion') : t('typeEdit.create'),
  );
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        clearErrors();
        const body = read();
        // A few checks here; the server checks everything and names the field.
        const local = [];
        if (!editing && !/^[A-Z0-9]{2,8}$/.test(code.value.trim()))
          local.push({ field: 'code', message: t('typeEdit.codeInvalid') });
        if (body.name.length < 2) local.push({ field: 'name', message: t('v.minLength', { min: 2 }) });
        if (!body.faceFields.length) local.push({ field: 'faceFields', message: t('typeEdit.needField') });
        body.faceFields.forEach((f, i) => {
          if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(f.key))
            local.push({ field: `faceFields.${i}.key`, message: t('typeEdit.keyInvalid') });
          if (!f.label) local.push({ field: `faceFields.${i}.label`, message: t('v.required') });
          if (f.type === 'enum' && !f.options)
            local.push({ field: `faceFields.${i}.options`, message: t('typeEdit.optionsRequired') });
        });
        if (local.length) {
          errorSummary(summary, showErrors(local));
          return;
        }
        await busy(submit, async () => {
          try {
            if (editing) {
              const saved = await api(`/certificate-types/${encodeURIComponent(params.code)}`, {
                method: 'PUT',
                json: { ...body, expectedVersion: existing.latestVersion },
              });
              navigate(`/admin/types/${encodeURIComponent(params.code)}?version=${saved.version}&saved=1`);
            } else {
              const created = await api('/certificate-types', {
                json: { code: code.value.trim(), department: department.value, ...body },
              });
              navigate(`/admin/types/${encodeURIComponent(created.code)}?saved=1`);
            }
          } catch (err) {
            const d = describeError(err);
            if (d.fields.length) errorSummary(summary, showErrors(d.fields), d.message);
            else messages.error(err);
          }
        });
      },
    },
    summary,
    section(
      t('type.basics'),
      h(
        'div',
        { class: 'form-grid' },
        Object.values(basics).map((b) => b.el),
      ),
    ),
    section(
      t('type.faceFields'),
      h('p', { class: 'hint' }, t('typeEdit.fieldsHint'), ' ', t('typeEdit.keyHint')),
      fieldsEditor.el,
    ),
    section(
      t('type.chain'),
      h('p', { class: 'hint' }, t('typeEdit.chainHint'), ' ', t('typeEdit.stepKeyHint')),
      chainEditor.el,
    ),
    h(
      'div',
      { class: 'form-actions sticky-actions' },
      submit,
      h(
        'a',
        {
          href: editing ? `/admin/types/${encodeURIComponent(params.code)}` : '/admin/types',
          class: 'btn btn-secondary',
        },
        t('common.cancel'),
      ),
    ),
  );
  main.append(
    pageHeader(
      editing
        ? t('typeEdit.editHeading', { name: existing.name, version: existing.latestVersion + 1 })
        : t('typeEdit.newTitle'),
    ),
    messages.el,
    form,
  );
}
