import { h, fill } from '../dom.js';
import { t, tOr, formatDate, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, section, messageArea, facts, statusBadge, busy, button, field, pdfViewer } from '../ui.js';
import { faceDataView, loadTypeFields } from '../face-view.js';

export const title = () => t('counter.title');

/**
 * The counter (窗口亮证核验, docs/holders.md "Show-codes"): a handler types the holder's 8-character
 * code and the reason, and sees the certificate once — the code is used up by that.
 */
export async function render(main) {
  const messages = messageArea();
  const code = field(
    t('counter.code'),
    h('input', {
      name: 'code',
      autocomplete: 'off',
      autocapitalize: 'characters',
      spellcheck: 'false',
      maxlength: '20',
      class: 'mono code-input',
    }),
    { required: true, hint: t('counter.codeHint') },
  );
  const reason = field(t('counter.reason'), h('input', { name: 'reason', maxlength: '200' }), {
    required: true,
    hint: t('counter.reasonHint'),
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = button(t('counter.redeem'), undefined, { kind: 'primary', type: 'submit' });
  const form = h(
    'form',
    { novalidate: true },
    h('div', { class: 'form-grid' }, code.el, reason.el),
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, async () => {
      messages.clear();
      code.setError(null);
      reason.setError(null);
      const c = code.control.value.trim();
      const r = reason.control.value.trim();
      if (!c) code.setError(t('counter.codeRequired'));
      if (!r) reason.setError(t('counter.reasonRequired'));
      if (!c || !r) return (c ? reason : code).control.focus();
      try {
        const got = await api('/show-codes/redeem', { json: { code: c, reason: r } });
        code.control.value = '';
        await shown(out, got);
        messages.show('success', t('counter.done'));
      } catch (err) {
        fill(out);
        messages.error(err, undefined, (f) =>
          f === 'code' ? t('counter.code') : f === 'reason' ? t('counter.reason') : f,
        );
      }
    });
  });
  main.append(pageHeader(t('counter.title')), messages.el, section(t('counter.enter'), form), out);
  code.control.focus();
}

async function shown(out, got) {
  const cert = got.certificate;
  const { fields } = await loadTypeFields(cert.type?.code, cert.type?.version);
  const bytes = Uint8Array.from(atob(got.pdf.base64), (ch) => ch.charCodeAt(0));
  const blob = new Blob([bytes], { type: 'application/pdf' });
  fill(
    out,
    section(
      `${cert.type?.name || ''} ${cert.number}`,
      facts([
        [t('certs.number'), h('span', { class: 'mono', 'data-number': cert.number }, cert.number)],
        [t('certs.holder'), `${cert.holder?.name}（${cert.holder?.id}）`],
        [t('cert.holderKind'), tOr(`holder.kind.${cert.holder?.kind}`, cert.holder?.kind)],
        [t('certs.issuer'), cert.issuer?.name],
        [t('certs.status'), statusBadge('certificate', cert.status)],
        [
          t('cert.validity'),
          `${formatDate(cert.validFrom)} — ${cert.validUntil ? formatDate(cert.validUntil) : t('validity.permanent')}`,
        ],
        got.matter ? [t('counter.matter'), got.matter] : null,
        [t('counter.shownAt'), formatDateTime(new Date().toISOString())],
      ]),
      faceDataView(fields, cert.faceData || {}),
      pdfViewer(blob, { title: t('cert.pdfFrame', { number: cert.number }), filename: `${cert.number}.pdf` }),
    ),
  );
}
