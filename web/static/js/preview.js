/** The certificate as it will look: the type's template rendered with the application's face data. */
import { h, fill } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';
import { button, busy, messageArea, pdfViewer } from './ui.js';

/**
 * A "preview" button that renders the template with this face data (POST
 * /certificate-types/:code/preview) and shows the PDF. Holder, number and dates are
 * samples until the certificate is issued; the note says so.
 */
export function facePreview(typeCode, version, faceData, { auto = false } = {}) {
  const out = h('div', { class: 'preview-area' });
  const messages = messageArea();
  const run = () =>
    busy(btn, async () => {
      messages.clear();
      fill(out, h('p', { class: 'loading', role: 'status' }, t('preview.rendering')));
      try {
        const blob = await api(`/certificate-types/${encodeURIComponent(typeCode)}/preview`, {
          query: { version },
          json: { faceData },
          accept: 'application/pdf, application/problem+json',
        });
        fill(out, pdfViewer(blob, { title: t('preview.frameTitle'), filename: `${typeCode}-preview.pdf` }));
      } catch (err) {
        fill(out);
        messages.error(err);
      }
    });
  const btn = button(t('preview.button'), run);
  if (auto) queueMicrotask(run);
  return h('div', { class: 'preview' }, h('p', { class: 'hint' }, t('preview.note')), btn, messages.el, out);
}
