/** Small DOM helpers. Text always goes in as text nodes, never as HTML, so data cannot inject markup. */

const PROPS = new Set(['value', 'indeterminate']);

/**
 * h('button', { class: 'btn', onclick: fn, 'aria-label': '…' }, 'text', child, [more])
 * null, undefined and false attributes and children are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value' && tag === 'textarea') el.textContent = String(v);
      else if (k === 'value' && tag === 'input') el.setAttribute('value', String(v));
      // As attributes, so form.reset() returns to them.
      else if (k === 'checked' || k === 'selected') el.setAttribute(k, '');
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}

let seq = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'id') {
  seq += 1;
  return `${prefix}-${seq}`;
}

/** Visually hidden text for screen readers. */
export const srOnly = (text) => h('span', { class: 'sr-only' }, text);
