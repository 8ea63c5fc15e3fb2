/**
 * The row editors of the certificate-type form: face fields and approval steps, each an
 * editable list (add, remove, move up and down) whose inputs keep what was typed.
 */
import { h, fill, uid } from './dom.js';
import { t, tOr } from './i18n.js';
import { field, button } from './ui.js';

const FIELD_TYPES = ['text', 'date', 'number', 'enum', 'idNumber', 'creditCode', 'image', 'list'];
const STEP_ROLES = ['reviewer', 'sealing-officer', 'department-admin', 'handler'];
/** Which constraint applies to which field type (the server refuses the others). */
const ONLY_FOR = {
  minLength: 'text',
  maxLength: 'text',
  pattern: 'text',
  min: 'number',
  max: 'number',
  options: 'enum',
  maxItems: 'list',
};

export const num = (s) => (s.trim() === '' ? undefined : Number(s));

/**
 * An editable list of rows (face fields or approval steps): add, remove, move up and down,
 * keeping each row's inputs (and what was typed) as they are.
 */
export function rowList({ make, addLabel, emptyText }) {
  const rows = [];
  const list = h('ol', { class: 'row-list' });
  const emptyNote = h('p', { class: 'muted' }, emptyText);
  const sync = () => {
    fill(
      list,
      rows.map((r) => r.el),
    );
    rows.forEach((r, i) => r.renumber(i, rows.length));
    emptyNote.hidden = rows.length > 0;
  };
  const api = {
    rows,
    add(initial, focus = false) {
      const row = make(initial, {
        remove: () => {
          const i = rows.indexOf(row);
          rows.splice(i, 1);
          sync();
          (rows[Math.min(i, rows.length - 1)]?.focusTarget() || addBtn).focus();
        },
        move: (delta, btn) => {
          const i = rows.indexOf(row);
          const j = i + delta;
          if (j < 0 || j >= rows.length) return;
          [rows[i], rows[j]] = [rows[j], rows[i]];
          sync();
          btn.focus();
        },
      });
      rows.push(row);
      sync();
      if (focus) row.focusTarget().focus();
      return row;
    },
  };
  const addBtn = button(addLabel, () => api.add(undefined, true));
  api.el = h('div', { class: 'row-editor' }, emptyNote, list, addBtn);
  return api;
}

function rowButtons(label, ops) {
  const up = button('↑', () => ops.move(-1, up), {
    kind: 'small btn-secondary',
    'aria-label': t('typeEdit.moveUp', { label }),
  });
  const down = button('↓', () => ops.move(1, down), {
    kind: 'small btn-secondary',
    'aria-label': t('typeEdit.moveDown', { label }),
  });
  const remove = button(t('typeEdit.remove'), () => ops.remove(), {
    kind: 'small btn-danger',
    'aria-label': t('typeEdit.removeLabel', { label }),
  });
  return { up, down, remove, el: h('div', { class: 'row-buttons' }, up, down, remove) };
}

export function faceFieldRow(f = { key: '', label: '', type: 'text', required: true }, ops) {
  const c = {
    key: h('input', { type: 'text', value: f.key, class: 'mono', spellcheck: 'false', autocomplete: 'off' }),
    label: h('input', { type: 'text', value: f.label }),
    type: h(
      'select',
      null,
      FIELD_TYPES.map((x) => h('option', { value: x, selected: x === f.type }, tOr(`ftype.${x}`, x))),
    ),
    required: h('input', { type: 'checkbox', checked: !!f.required }),
    minLength: h('input', { type: 'number', min: '0', step: '1', value: f.minLength ?? '' }),
    maxLength: h('input', { type: 'number', min: '1', step: '1', value: f.maxLength ?? '' }),
    pattern: h('input', { type: 'text', class: 'mono', value: f.pattern ?? '' }),
    min: h('input', { type: 'number', step: 'any', value: f.min ?? '' }),
    max: h('input', { type: 'number', step: 'any', value: f.max ?? '' }),
    options: h('textarea', { rows: '3', value: (f.options || []).join('\n') }),
    maxItems: h('input', { type: 'number', min: '1', max: '500', step: '1', value: f.maxItems ?? '' }),
    catalog: h('input', { type: 'checkbox', checked: !!f.catalog }),
    duplicate: h('input', { type: 'checkbox', checked: !!f.duplicate }),
  };
  const legend = h('legend');
  const wraps = {};
  const setters = {};
  const mk = (name, label, opts = {}) => {
    const fw = field(label, c[name], opts);
    wraps[name] = fw.el;
    setters[name] = fw.setError;
    return fw.el;
  };
  const check = (name, label) => {
    const id = uid('chk');
    c[name].id = id;
    wraps[name] = h('div', { class: 'field field-check' }, c[name], h('label', { for: id }, label));
    return wraps[name];
  };
  const buttons = rowButtons(f.label || f.key || '', ops);
  const rowError = h('p', { class: 'field-error', hidden: true });
  const el = h(
    'li',
    { class: 'row-item' },
    h(
      'fieldset',
      { class: 'row-fieldset' },
      legend,
      rowError,
      h(
        'div',
        { class: 'row-grid' },
        mk('key', t('fields.col.key'), { required: true }),
        mk('label', t('fields.col.label'), { required: true }),
        mk('type', t('fields.col.type')),
        h(
          'div',
          { class: 'checks-col' },
          check('required', t('fields.col.required')),
          check('catalog', t('fields.catalog')),
          check('duplicate', t('fields.duplicate')),
        ),
        buttons.el,
      ),
      h(
        'div',
        { class: 'row-grid constraints' },
        mk('minLength', t('typeEdit.minLength')),
        mk('maxLength', t('typeEdit.maxLength')),
        mk('pattern', t('typeEdit.pattern'), { hint: t('typeEdit.patternHint') }),
        mk('min', t('typeEdit.min')),
        mk('max', t('typeEdit.max')),
        mk('options', t('typeEdit.options'), { hint: t('typeEdit.optionsHint') }),
        mk('maxItems', t('typeEdit.maxItems')),
      ),
    ),
  );
  const showForType = () => {
    for (const [prop, only] of Object.entries(ONLY_FOR)) wraps[prop].hidden = c.type.value !== only;
    el.querySelector('.constraints').hidden = !Object.values(ONLY_FOR).includes(c.type.value);
  };
  c.type.addEventListener('change', showForType);
  showForType();
  let index = 0;
  return {
    el,
    focusTarget: () => c.key,
    renumber(i, n) {
      index = i;
      const name = c.label.value || c.key.value;
      legend.textContent = t('typeEdit.fieldN', { n: i + 1 }) + (name ? ` · ${name}` : '');
      buttons.up.disabled = i === 0;
      buttons.down.disabled = i === n - 1;
      for (const [k, ctl] of Object.entries(c)) ctl.dataset.path = `faceFields.${i}.${k}`;
    },
    read() {
      const type = c.type.value;
      const out = { key: c.key.value.trim(), label: c.label.value.trim(), type, required: c.required.checked };
      const only = (prop, v) => {
        if (ONLY_FOR[prop] === type && v !== undefined && v !== '') out[prop] = v;
      };
      only('minLength', num(c.minLength.value));
      only('maxLength', num(c.maxLength.value));
      only('pattern', c.pattern.value.trim() || undefined);
      only('min', num(c.min.value));
      only('max', num(c.max.value));
      const options = c.options.value
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean);
      only('options', options.length ? options : undefined);
      only('maxItems', num(c.maxItems.value));
      if (c.catalog.checked) out.catalog = true;
      if (c.duplicate.checked) out.duplicate = true;
      return out;
    },
    /** prop: a control name, or null for the row as a whole. Returns the control's id. */
    setError(prop, message) {
      if (prop && setters[prop]) {
        setters[prop](message);
        if (wraps[prop]) wraps[prop].hidden = false;
        return c[prop].id;
      }
      rowError.hidden = !message;
      rowError.textContent = message || '';
      return c.key.id;
    },
    clearErrors() {
      for (const s of Object.values(setters)) s(null);
      rowError.hidden = true;
    },
    label: () => t('typeEdit.fieldN', { n: index + 1 }),
  };
}

export function stepRow(s = { key: '', name: '', role: 'reviewer' }, ops) {
  const c = {
    key: h('input', { type: 'text', value: s.key, class: 'mono', spellcheck: 'false', autocomplete: 'off' }),
    name: h('input', { type: 'text', value: s.name }),
    role: h(
      'select',
      null,
      STEP_ROLES.map((r) => h('option', { value: r, selected: r === s.role }, tOr(`role.${r}`, r))),
    ),
    deadlineHours: h('input', { type: 'number', min: '0', step: 'any', value: s.deadlineHours ?? '' }),
    escalate: h('input', { type: 'checkbox', checked: !!s.escalate }),
  };
  const setters = {};
  const mk = (name, label, opts) => {
    const fw = field(label, c[name], opts);
    setters[name] = fw.setError;
    return fw.el;
  };
  const escId = uid('esc');
  c.escalate.id = escId;
  const legend = h('legend');
  const rowError = h('p', { class: 'field-error', hidden: true });
  const buttons = rowButtons(s.name || s.key || '', ops);
  let index = 0;
  const el = h(
    'li',
    { class: 'row-item' },
    h(
      'fieldset',
      { class: 'row-fieldset' },
      legend,
      rowError,
      h(
        'div',
        { class: 'row-grid step' },
        mk('key', t('chain.col.key'), { required: true }),
        mk('name', t('chain.col.name'), { required: true }),
        mk('role', t('chain.col.role')),
        mk('deadlineHours', t('typeEdit.deadlineHours')),
        h(
          'div',
          { class: 'checks-col' },
          h('div', { class: 'field field-check' }, c.escalate, h('label', { for: escId }, t('typeEdit.escalate'))),
        ),
        buttons.el,
      ),
    ),
  );
  return {
    el,
    focusTarget: () => c.key,
    renumber(i, n) {
      index = i;
      legend.textContent = t('typeEdit.stepN', { n: i + 1 }) + (c.name.value ? ` · ${c.name.value}` : '');
      buttons.up.disabled = i === 0;
      buttons.down.disabled = i === n - 1;
    },
    read() {
      const out = { key: c.key.value.trim(), name: c.name.value.trim(), role: c.role.value };
      const d = num(c.deadlineHours.value);
      if (d !== undefined) out.deadlineHours = d;
      if (c.escalate.checked) out.escalate = true;
      return out;
    },
    setError(prop, message) {
      if (prop && setters[prop]) {
        setters[prop](message);
        return c[prop].id;
      }
      rowError.hidden = !message;
      rowError.textContent = message || '';
      return c.key.id;
    },
    clearErrors() {
      for (const s of Object.values(setters)) s(null);
      rowError.hidden = true;
    },
    label: () => t('typeEdit.stepN', { n: index + 1 }),
  };
}
