import { h, fill, uid } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import {
  pageHeader,
  section,
  messageArea,
  table,
  field,
  errorSummary,
  busy,
  button,
  confirmDialog,
  statusBadge,
} from '../ui.js';
import { describeError } from '../errors.js';

export const title = () => t('seals.title');

const MAX_IMAGE_BYTES = 1_500_000;

function readFile(file, as) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    if (as === 'text') r.readAsText(file);
    else r.readAsDataURL(file);
  });
}

const base64Of = async (file) => String(await readFile(file, 'dataurl')).replace(/^data:[^,]*,/, '');

/**
 * The department's seals: list, deactivate, add. Outside production a seal may be added with
 * the image alone (a development certificate is made for it); the real CA's certificate and
 * key go in as PEM or PKCS#12.
 */
export async function render(main) {
  const messages = messageArea();
  const depts = departmentsWith(['department-admin']) || [];
  const list = h('div');

  async function load() {
    const seals = itemsOf(await api('/seals'));
    fill(
      list,
      table(
        [
          { label: 'ID', cell: (s) => `#${s.id}` },
          { label: t('seals.col.name'), cell: (s) => s.name },
          { label: t('seals.col.department'), cell: (s) => s.department },
          { label: t('seals.col.serial'), cell: (s) => h('code', { class: 'small' }, s.serial) },
          { label: t('seals.col.validity'), cell: (s) => `${formatDate(s.notBefore)} — ${formatDate(s.notAfter)}` },
          { label: t('seals.col.default'), cell: (s) => (s.isDefault ? t('common.yes') : t('common.no')) },
          { label: t('seals.col.status'), cell: (s) => statusBadge('seal', s.active ? 'active' : 'inactive') },
          {
            label: t('inbox.col.actions'),
            cell: (s) =>
              s.active
                ? button(
                    t('seals.deactivate'),
                    async (e) => {
                      const btn = e.currentTarget;
                      const ok = await confirmDialog({
                        title: t('seals.deactivateTitle', { name: s.name }),
                        body: t('seals.deactivateBody'),
                        confirmLabel: t('seals.deactivate'),
                        danger: true,
                      });
                      if (!ok) return;
                      await busy(btn, async () => {
                        try {
                          await api(`/seals/${s.id}`, { method: 'DELETE' });
                          messages.show('success', t('seals.deactivated', { name: s.name }));
                          await load();
                        } catch (err) {
                          messages.error(err);
                        }
                      });
                    },
                    { kind: 'small btn-danger', 'aria-label': t('seals.deactivateLabel', { name: s.name }) },
                  )
                : '—',
          },
        ],
        seals,
        { caption: t('seals.title'), empty: t('seals.empty'), rowClass: (s) => (s.active ? undefined : 'row-muted') },
      ),
    );
  }

  const summary = h('div');
  const department = h(
    'select',
    null,
    depts.map((d) => h('option', { value: d }, d)),
  );
  const name = h('input', { type: 'text' });
  const image = h('input', { type: 'file', accept: 'image/png' });
  const imagePreview = h('div', { class: 'image-preview' });
  const isDefault = h('input', { type: 'checkbox', checked: true, id: uid('def') });
  const certificatePem = h('textarea', { rows: '4', class: 'mono small', spellcheck: 'false' });
  const privateKeyPem = h('textarea', { rows: '4', class: 'mono small', spellcheck: 'false' });
  const chainPem = h('textarea', { rows: '3', class: 'mono small', spellcheck: 'false' });
  const pkcs12 = h('input', { type: 'file', accept: '.p12,.pfx,application/x-pkcs12' });
  const p12Password = h('input', { type: 'password', autocomplete: 'off' });
  const f = {
    department: field(t('seals.col.department'), department, { required: true }),
    name: field(t('seals.col.name'), name, { required: true, hint: t('seals.nameHint') }),
    image: field(t('seals.image'), image, { required: true, hint: t('seals.imageHint') }),
    certificatePem: field(t('seals.certificatePem'), certificatePem, { wide: true }),
    privateKeyPem: field(t('seals.privateKeyPem'), privateKeyPem, { wide: true }),
    chainPem: field(t('seals.chainPem'), chainPem, { wide: true }),
    pkcs12: field(t('seals.pkcs12'), pkcs12),
    password: field(t('seals.p12Password'), p12Password),
  };
  f.image.el.append(imagePreview);
  image.addEventListener('change', async () => {
    const file = image.files && image.files[0];
    fill(imagePreview, file ? h('img', { src: await readFile(file, 'dataurl'), alt: t('seals.imagePreview') }) : null);
  });

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('seals.add'));
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        for (const x of Object.values(f)) x.setError(null);
        const problems = [];
        const file = image.files && image.files[0];
        if (name.value.trim().length < 2) problems.push(['name', t('v.minLength', { min: 2 })]);
        if (!file) problems.push(['image', t('seals.chooseImage')]);
        else if (file.type && file.type !== 'image/png') problems.push(['image', t('seals.pngOnly')]);
        else if (file.size > MAX_IMAGE_BYTES) problems.push(['image', t('seals.imageTooLarge')]);
        for (const [k, m] of problems) f[k].setError(m);
        errorSummary(
          summary,
          problems.map(([k, m]) => ({
            id: f[k].control.id,
            label: f[k].el.querySelector('label').firstChild.textContent,
            message: m,
          })),
        );
        if (problems.length) return;
        await busy(submit, async () => {
          try {
            const body = {
              department: department.value,
              name: name.value.trim(),
              image: await base64Of(file),
              isDefault: isDefault.checked,
            };
            if (certificatePem.value.trim()) body.certificatePem = certificatePem.value.trim();
            if (privateKeyPem.value.trim()) body.privateKeyPem = privateKeyPem.value.trim();
            if (chainPem.value.trim()) body.chainPem = chainPem.value.trim();
            if (pkcs12.files && pkcs12.files[0]) {
              body.pkcs12 = await base64Of(pkcs12.files[0]);
              body.password = p12Password.value;
            }
            const created = await api('/seals', { json: body });
            form.reset();
            fill(imagePreview);
            errorSummary(summary, []);
            const warnings = created.warnings || [];
            messages.show(
              'success',
              t('seals.added', { name: created.name }),
              warnings.map((w) => t('seals.warning', { text: w })),
            );
            await load();
          } catch (err) {
            const d = describeError(err);
            const items = d.fields.map((x) => {
              const target = f[x.field];
              if (target) target.setError(x.message);
              return {
                id: target?.control.id,
                label: target ? target.el.querySelector('label').firstChild.textContent : x.field,
                message: x.message,
              };
            });
            if (items.length)
              errorSummary(
                summary,
                items,
                err.status === 422 && /Cannot use this seal/.test(d.detail) ? t('seals.unusable') : d.message,
              );
            else messages.error(err);
          }
        });
      },
    },
    summary,
    h(
      'div',
      { class: 'form-grid' },
      f.department.el,
      f.name.el,
      f.image.el,
      h('div', { class: 'field field-check' }, isDefault, h('label', { for: isDefault.id }, t('seals.isDefault'))),
    ),
    h(
      'details',
      { class: 'advanced' },
      h('summary', null, t('seals.advanced')),
      h('p', { class: 'hint' }, t('seals.advancedHint')),
      h(
        'div',
        { class: 'form-grid' },
        f.certificatePem.el,
        f.privateKeyPem.el,
        f.chainPem.el,
        f.pkcs12.el,
        f.password.el,
      ),
    ),
    h('div', { class: 'form-actions' }, submit),
  );

  main.append(
    pageHeader(t('seals.title')),
    messages.el,
    section(t('seals.list'), list),
    section(t('seals.new'), h('p', { class: 'hint' }, t('seals.devHint')), form),
  );
  await load();
}
