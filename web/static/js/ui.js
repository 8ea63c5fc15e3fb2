/** Building blocks every page uses: headings, messages, tables, fields, a confirm dialog. */
import { h, fill, uid, srOnly } from './dom.js';
import { t, tOr } from './i18n.js';
import { describeError } from './errors.js';

/** The page's h1 (focused after navigation) with optional actions on the right. */
export function pageHeader(title, ...actions) {
  return h(
    'div',
    { class: 'page-header' },
    h('h1', { tabindex: '-1' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null,
  );
}

export function section(title, ...children) {
  const id = uid('sec');
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

/**
 * A live region for a page's messages. show(kind, text, details?) with kind error|success|info.
 * Errors are announced assertively (role=alert), the rest politely.
 */
export function messageArea() {
  const el = h('div', { class: 'messages' });
  const api = {
    el,
    clear() {
      fill(el);
    },
    show(kind, text, details = []) {
      const box = h(
        'div',
        { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status', tabindex: '-1' },
        h('p', { class: 'msg-text' }, text),
        details.length
          ? h(
              'ul',
              { class: 'msg-list' },
              details.map((d) => h('li', null, d)),
            )
          : null,
      );
      fill(el, box);
      return box;
    },
    /** An API error in plain words; the server's own sentence is kept behind "details". */
    error(err, context, fieldLabel = (f) => f) {
      const d = describeError(err, context);
      const items = d.fields.map((f) =>
        f.field ? h('span', null, h('strong', null, fieldLabel(f.field)), '：', f.message) : f.message,
      );
      const box = api.show('error', d.message, items);
      // A wrong password needs no technical details; everything else keeps the server's sentence for support.
      if ((d.detail || d.requestId) && context !== 'login') {
        box.append(
          h(
            'details',
            { class: 'msg-more' },
            h('summary', null, t('err.moreDetails')),
            d.detail ? h('p', null, d.detail) : null,
            d.requestId ? h('p', { class: 'muted' }, t('err.requestId', { id: d.requestId })) : null,
          ),
        );
      }
      return d;
    },
  };
  return api;
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** A status as a coloured tag; kind: application | task | type | certificate | user. */
export function statusBadge(kind, status) {
  const label = tOr(`status.${kind}.${status}`, status);
  return h('span', { class: `badge badge-${kind}-${status}` }, label);
}

/**
 * A dense table. columns: [{ label, cell(row) → node|string, class?, sort?: 'ascending'|'descending'|'none', onSort? }]
 */
export function table(columns, rows, { caption, empty: emptyText, rowClass } = {}) {
  if (!rows.length && emptyText) return empty(emptyText);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((c) =>
            h(
              'th',
              { scope: 'col', class: c.class, 'aria-sort': c.sort },
              c.onSort
                ? h(
                    'button',
                    { type: 'button', class: 'sort', onclick: c.onSort },
                    c.label,
                    h(
                      'span',
                      { 'aria-hidden': 'true', class: 'sort-mark' },
                      c.sort === 'ascending' ? ' ▲' : c.sort === 'descending' ? ' ▼' : ' ↕',
                    ),
                  )
                : c.label,
            ),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            { class: rowClass ? rowClass(r) : undefined },
            columns.map((c) => h('td', { class: c.class }, c.cell(r))),
          ),
        ),
      ),
    ),
  );
}

/**
 * A labelled form control with hint and error wiring. control gets id, aria-describedby.
 * Returns { el, control, setError(text|null) }.
 */
export function field(label, control, { hint, required, id = uid('f'), wide } = {}) {
  control.id = control.id || id;
  const hintId = hint ? `${control.id}-hint` : null;
  const errId = `${control.id}-err`;
  const err = h('p', { class: 'field-error', id: errId, hidden: true });
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  if (required) control.setAttribute('aria-required', 'true');
  const el = h(
    'div',
    { class: ['field', wide && 'field-wide'] },
    h('label', { for: control.id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    err,
    control,
  );
  return {
    el,
    control,
    setError(text) {
      if (text) {
        err.hidden = false;
        fill(err, srOnly(t('common.errorPrefix')), text);
        control.setAttribute('aria-invalid', 'true');
        el.classList.add('has-error');
      } else {
        err.hidden = true;
        fill(err);
        control.removeAttribute('aria-invalid');
        el.classList.remove('has-error');
      }
    },
  };
}

/**
 * The error summary at the top of a form: a list of links that move focus to each bad field.
 * problems: [{ id, label, message }]. Focuses itself so screen readers read it at once.
 */
export function errorSummary(container, problems, title = t('form.fixErrors')) {
  if (!problems.length) {
    fill(container);
    return;
  }
  const box = h(
    'div',
    { class: 'msg msg-error error-summary', role: 'alert', tabindex: '-1' },
    h('p', { class: 'msg-text' }, title),
    h(
      'ul',
      { class: 'msg-list' },
      problems.map((p) =>
        h(
          'li',
          null,
          p.id
            ? h(
                'a',
                {
                  href: `#${p.id}`,
                  onclick: (e) => {
                    e.preventDefault();
                    document.getElementById(p.id)?.focus();
                  },
                },
                `${p.label}：${p.message}`,
              )
            : `${p.label}：${p.message}`,
        ),
      ),
    ),
  );
  fill(container, box);
  box.focus();
}

export function button(label, onclick, { kind = 'secondary', type = 'button', ...attrs } = {}) {
  return h('button', { type, class: `btn btn-${kind}`, onclick, ...attrs }, label);
}

/** Disables a button while an async action runs, so a double click does not send twice. */
export async function busy(btn, fn) {
  if (btn.disabled) return undefined;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/**
 * A modal confirm (native <dialog>: focus is trapped and Escape cancels).
 * With reason: true it asks for a text and resolves to it; otherwise to true. Cancel → false.
 */
export function confirmDialog({
  title,
  body,
  confirmLabel = t('common.confirm'),
  danger = false,
  reason = false,
  reasonLabel = t('common.reason'),
}) {
  return new Promise((resolve) => {
    const input = reason ? h('textarea', { rows: '3' }) : null;
    const f = input ? field(reasonLabel, input, { required: true }) : null;
    const titleId = uid('dlg');
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, title),
        body ? h('p', null, body) : null,
        f ? f.el : null,
        h(
          'div',
          { class: 'dialog-actions' },
          h(
            'button',
            { type: 'submit', value: 'cancel', class: 'btn btn-secondary', formnovalidate: true },
            t('common.cancel'),
          ),
          h(
            'button',
            { type: 'submit', value: 'ok', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}` },
            confirmLabel,
          ),
        ),
      ),
    );
    dlg.querySelector('form').addEventListener('submit', (e) => {
      const ok = e.submitter && e.submitter.value === 'ok';
      if (ok && input && !input.value.trim()) {
        e.preventDefault();
        f.setError(t('v.required'));
        input.focus();
      }
    });
    dlg.addEventListener('close', () => {
      const ok = dlg.returnValue === 'ok';
      dlg.remove();
      resolve(ok ? (input ? input.value.trim() : true) : false);
    });
    document.body.append(dlg);
    dlg.showModal();
    (input || dlg.querySelector('button[value="ok"]')).focus();
  });
}

/** A definition list of label → value pairs (values may be nodes). */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs
      .filter(Boolean)
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v === undefined || v === null || v === '' ? '—' : v)]),
  );
}

/** Opens a PDF blob in an iframe (Chromium's viewer) with a download link beside it. */
export function pdfViewer(blob, { title, filename = 'document.pdf' }) {
  const href = URL.createObjectURL(blob);
  return h(
    'div',
    { class: 'pdf-view' },
    h('iframe', { src: href, title, class: 'pdf-frame' }),
    h('p', null, h('a', { href, download: filename, class: 'btn btn-secondary' }, t('common.downloadPdf'))),
  );
}
