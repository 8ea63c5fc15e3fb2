/** The holder (持证主体) part of an application form: its kind is the type's, its ID is checked by kind. */
import { h } from './dom.js';
import { t } from './i18n.js';
import { field } from './ui.js';
import { checkHolder } from './validate.js';
import { problemText } from './face-form.js';

export function buildHolderForm(kind) {
  const id = h('input', {
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'characters',
    class: 'mono',
    maxlength: '18',
  });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const fId = field(t(`holder.id.${kind}`), id, {
    required: true,
    hint: t(kind === 'person' ? 'hint.idNumber' : 'hint.creditCode'),
  });
  const fName = field(t(`holder.name.${kind}`), name, { required: true });
  const labels = { id: t(`holder.id.${kind}`), name: t(`holder.name.${kind}`) };
  const setters = { id: fId.setError, name: fName.setError };
  const ids = { id: id.id, name: name.id };
  return {
    el: h(
      'fieldset',
      { class: 'form-grid holder' },
      h('legend', { class: 'sr-only' }, t('holder.legend', { kind: t(`holder.kind.${kind}`) })),
      fId.el,
      fName.el,
    ),
    read: () => checkHolder(kind, id.value, name.value),
    showProblems(problems) {
      const items = [];
      for (const k of ['id', 'name']) {
        setters[k](problems[k] ? problemText(problems[k]) : null);
        if (problems[k]) items.push({ id: ids[k], label: labels[k], message: problemText(problems[k]) });
      }
      return items;
    },
    showServerErrors(errors) {
      const items = [];
      for (const e of errors) {
        const m = /^holder\.(id|name)/.exec(e.field);
        if (!m) continue;
        setters[m[1]](e.message);
        items.push({ id: ids[m[1]], label: labels[m[1]], message: e.message });
      }
      return items;
    },
  };
}
