/**
 * A form generated from a certificate type's face fields: one labelled control per field,
 * in the type's order, with the constraints as hints, checked in the browser by validate.js
 * and given the server's own field errors when it still refuses.
 */
import { h, fill, uid } from './dom.js';
import { t } from './i18n.js';
import { field, button } from './ui.js';
import { checkFaceData, DEFAULT_LIST_MAX_ITEMS } from './validate.js';

export function problemText(p) {
  return t(p.key, p.params);
}

function hintFor(f) {
  const parts = [];
  if (f.type === 'text') {
    if (f.minLength !== undefined && f.maxLength !== undefined)
      parts.push(t('hint.lengthRange', { min: f.minLength, max: f.maxLength }));
    else if (f.maxLength !== undefined) parts.push(t('hint.maxLength', { max: f.maxLength }));
    else if (f.minLength !== undefined) parts.push(t('hint.minLength', { min: f.minLength }));
    if (f.pattern) parts.push(t('hint.pattern', { pattern: f.pattern }));
  }
  if (f.type === 'number') {
    if (f.min !== undefined) parts.push(t('hint.min', { min: f.min }));
    if (f.max !== undefined) parts.push(t('hint.max', { max: f.max }));
  }
  if (f.type === 'date') parts.push(t('hint.date'));
  if (f.type === 'idNumber') parts.push(t('hint.idNumber'));
  if (f.type === 'creditCode') parts.push(t('hint.creditCode'));
  if (f.type === 'image') parts.push(t('hint.image'));
  if (f.type === 'list') parts.push(t('hint.list', { max: f.maxItems ?? DEFAULT_LIST_MAX_ITEMS }));
  return parts.join('；');
}

function listControl(f, initial, id) {
  const items = h('ol', { class: 'list-items' });
  const addItem = (value = '', focus = false) => {
    const n = items.children.length + 1;
    const input = h('input', { type: 'text', value, 'aria-label': t('form.listItem', { label: f.label, n }) });
    const li = h(
      'li',
      null,
      input,
      button(
        t('form.removeItem'),
        () => {
          li.remove();
          renumber();
          (items.querySelector('input') || add).focus();
        },
        { kind: 'link', 'aria-label': t('form.removeItemLabel', { label: f.label, n }) },
      ),
    );
    items.append(li);
    if (focus) input.focus();
  };
  const renumber = () => {
    [...items.children].forEach((li, i) => {
      li.querySelector('input').setAttribute('aria-label', t('form.listItem', { label: f.label, n: i + 1 }));
      li.querySelector('button').setAttribute('aria-label', t('form.removeItemLabel', { label: f.label, n: i + 1 }));
    });
  };
  const add = button(t('form.addItem'), () => addItem('', true), { kind: 'secondary', id });
  (Array.isArray(initial) && initial.length ? initial : ['']).forEach((v) => addItem(v));
  const wrap = h('div', { class: 'list-control', role: 'group' }, items, add);
  return {
    wrap,
    focusTarget: () => items.querySelector('input') || add,
    read: () => [...items.querySelectorAll('input')].map((i) => i.value),
  };
}

function imageControl(f, initial, id) {
  let value = typeof initial === 'string' ? initial : '';
  const input = h('input', { type: 'file', id, accept: 'image/png,image/jpeg' });
  const preview = h('div', { class: 'image-preview' });
  const showPreview = () =>
    fill(preview, value ? h('img', { src: value, alt: t('form.imagePreview', { label: f.label }) }) : null);
  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      value = String(reader.result);
      showPreview();
    };
    reader.readAsDataURL(file);
  });
  showPreview();
  return { control: input, extra: preview, read: () => value };
}

/**
 * buildFaceForm(fields, initial) → { el, read(), showProblems(problems), showServerErrors(errors) }
 * read() → { data, problems } with problems keyed by field key; ids for the error summary.
 */
export function buildFaceForm(fields, initial = {}) {
  const controls = new Map();
  const el = h('div', { class: 'face-form form-grid' });
  for (const f of fields) {
    const id = uid(`face-${f.key}`);
    const hint = hintFor(f);
    const init = initial[f.key];
    let entry;
    if (f.type === 'list') {
      const lc = listControl(f, init, id);
      const errId = `${id}-err`;
      const err = h('p', { class: 'field-error', id: errId, hidden: true });
      const legendId = `${id}-legend`;
      const fs = h(
        'fieldset',
        { class: 'field field-wide', 'aria-describedby': hint ? `${id}-hint ${errId}` : errId },
        h(
          'legend',
          { id: legendId },
          f.label,
          f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
        ),
        hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
        err,
        lc.wrap,
      );
      el.append(fs);
      entry = {
        id,
        read: lc.read,
        focusId: () => {
          const target = lc.focusTarget();
          if (!target.id) target.id = uid(`face-${f.key}-item`);
          return target.id;
        },
        setError(text) {
          err.hidden = !text;
          fill(err, text || '');
          fs.classList.toggle('has-error', !!text);
        },
      };
    } else if (f.type === 'image') {
      const ic = imageControl(f, init, id);
      const fw = field(f.label, ic.control, { hint, required: f.required, id });
      fw.el.append(ic.extra);
      el.append(fw.el);
      entry = { id, read: ic.read, focusId: () => id, setError: fw.setError };
    } else {
      let control;
      const value = init === undefined || init === null ? '' : String(init);
      if (f.type === 'enum') {
        control = h(
          'select',
          { name: f.key },
          h('option', { value: '' }, t('form.choose')),
          (f.options || []).map((o) => h('option', { value: o, selected: o === value }, o)),
        );
      } else if (f.type === 'text' && (f.maxLength ?? 4000) > 200) {
        control = h('textarea', { name: f.key, rows: '3', value });
      } else {
        const attrs = { name: f.key, value, autocomplete: 'off' };
        if (f.type === 'date') attrs.type = 'date';
        else if (f.type === 'number')
          Object.assign(attrs, { type: 'number', step: 'any', min: f.min, max: f.max, inputmode: 'decimal' });
        else attrs.type = 'text';
        if (f.type === 'idNumber' || f.type === 'creditCode')
          Object.assign(attrs, { spellcheck: 'false', autocapitalize: 'characters', class: 'mono', maxlength: '18' });
        control = h('input', attrs);
      }
      const fw = field(f.label, control, { hint, required: f.required, id, wide: control.tagName === 'TEXTAREA' });
      el.append(fw.el);
      entry = { id, read: () => control.value, focusId: () => id, setError: fw.setError };
    }
    controls.set(f.key, { field: f, ...entry });
  }

  function summaryItem(key, message) {
    const c = controls.get(key);
    return { id: c ? c.focusId() : null, label: c ? c.field.label : key, message };
  }

  return {
    el,
    read() {
      const values = {};
      for (const [key, c] of controls) values[key] = c.read();
      return checkFaceData(fields, values);
    },
    /** Shows problems (key → problem) by the fields; returns error-summary items in field order. */
    showProblems(problems) {
      const items = [];
      for (const [key, c] of controls) {
        const p = problems[key];
        c.setError(p ? problemText(p) : null);
        if (p) items.push(summaryItem(key, problemText(p)));
      }
      return items;
    },
    /** The server's 422 errors for face fields (field paths like faceData.entityName or entityName). */
    showServerErrors(errors) {
      const items = [];
      for (const e of errors) {
        const key = e.field.replace(/^faceData\./, '').split('.')[0];
        const c = controls.get(key);
        if (!c) continue;
        c.setError(e.message);
        items.push(summaryItem(key, e.message));
      }
      return items;
    },
    clearErrors() {
      for (const c of controls.values()) c.setError(null);
    },
    has: (key) => controls.has(key),
  };
}
