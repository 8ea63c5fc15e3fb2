/**
 * The holder portal's reminders and requests (docs/holders.md): the reminders list (expiring
 * soon, revoked, cancelled; unread ones marked), my requests to issuing departments with their
 * outcomes, and the request form on a certificate's page (注销申请 / 异议).
 */
import { h, fill, uid } from '../dom.js';
import { t, formatDate, formatDateTime } from '../i18n.js';

/** `portal`: { api, message, go, main, refresh } from holder/app.js (refresh redraws page and navigation). */
export function requestPages(portal) {
  const { api, message, go, main } = portal;

  async function remindersPage() {
    const { items, unread } = await api('/reminders');
    document.title = `${t('holder.nav.reminders')} · ${t('holder.title')}`;
    const status = h('div');
    const markAll = h(
      'button',
      {
        class: 'btn btn-block',
        type: 'button',
        onclick: async () => {
          try {
            await api('/reminders/read', { method: 'POST', json: {} });
            await portal.refresh();
            main.prepend(message('success', t('holder.reminders.allRead')));
          } catch (err) {
            fill(status, message('error', err.message));
          }
        },
      },
      t('holder.reminders.markAll'),
    );
    fill(
      main,
      h('h1', null, t('holder.nav.reminders')),
      status,
      items.length === 0 ? message('info', t('holder.reminders.none')) : null,
      unread > 0 ? h('p', { class: 'cert-meta' }, t('holder.reminders.unread', { n: unread })) : null,
      unread > 0 ? markAll : null,
      h(
        'ul',
        { class: 'plain-list' },
        ...items.map((r) =>
          h(
            'li',
            { class: ['card', 'reminder', !r.readAt && 'unread'], dataset: { reminder: String(r.id) } },
            h(
              'h2',
              null,
              r.readAt ? null : h('span', { class: 'badge badge-overdue' }, t('holder.reminders.new')),
              r.readAt ? '' : ' ',
              t(`holder.reminder.${r.event}`, { date: r.dueOn ? formatDate(r.dueOn) : '' }),
            ),
            h(
              'p',
              { class: 'cert-meta' },
              h('a', { href: `/holder/certificates/${r.certificateNumber}`, onclick: go }, r.typeName),
              ` · ${r.certificateNumber}`,
            ),
            h('p', { class: 'cert-meta' }, h('time', { datetime: r.at }, formatDateTime(r.at))),
          ),
        ),
      ),
    );
  }

  async function requestsPage() {
    const { items } = await api('/requests');
    document.title = `${t('holder.nav.requests')} · ${t('holder.title')}`;
    fill(
      main,
      h('h1', null, t('holder.nav.requests')),
      h('p', { class: 'cert-meta' }, t('holder.requests.hint')),
      items.length === 0 ? message('info', t('holder.requests.none')) : null,
      ...items.map((r) =>
        h(
          'section',
          { class: 'card', dataset: { request: String(r.id) }, 'aria-labelledby': `req-${r.id}` },
          h('h2', { id: `req-${r.id}` }, `${t(`holder.request.kind.${r.kind}`)} · ${r.certificateNumber}`),
          r.field ? h('p', { class: 'cert-meta' }, `${t('holder.request.field')}: ${r.field.label}`) : null,
          h('p', { class: 'cert-meta' }, `${t('holder.request.statement')}: ${r.statement}`),
          h('p', { class: 'cert-meta' }, `${t('holder.request.filed')}: ${formatDateTime(r.createdAt)}`),
          h(
            'p',
            { class: 'request-status' },
            h('strong', null, t(`holder.request.status.${r.status}`)),
            r.outcome ? ` · ${t(`holder.request.outcome.${r.outcome}`)}` : '',
          ),
          r.comment ? h('p', { class: 'cert-meta' }, `${t('holder.request.comment')}: ${r.comment}`) : null,
          r.decidedAt
            ? h('p', { class: 'cert-meta' }, `${t('holder.request.decided')}: ${formatDateTime(r.decidedAt)}`)
            : null,
        ),
      ),
    );
  }

  /** The form on a certificate's page: ask its department to correct a field or to cancel it. */
  function requestForm(cert) {
    const out = h('div');
    const fieldSelect = h('select', { name: 'field', id: uid('field') });
    const fieldRow = h('label', { class: 'field' }, h('span', null, t('holder.request.field')), fieldSelect);
    const kindName = uid('kind');
    const kinds = h(
      'fieldset',
      { class: 'field choice' },
      h('legend', null, t('holder.request.kind')),
      ...['correct', 'cancel'].map((k) =>
        h(
          'label',
          { class: 'choice-item' },
          h('input', { type: 'radio', name: kindName, value: k, checked: k === 'correct' }),
          ` ${t(`holder.request.kind.${k}`)}`,
        ),
      ),
    );
    const form = h(
      'form',
      { class: 'card', 'aria-labelledby': 'request-h', novalidate: true },
      h('h2', { id: 'request-h' }, t('holder.request.title')),
      h('p', { class: 'cert-meta' }, t('holder.request.formHint', { department: cert.issuer.name })),
      kinds,
      fieldRow,
      h(
        'label',
        { class: 'field' },
        h('span', null, t('holder.request.statement')),
        h('textarea', { name: 'statement', rows: '4', maxlength: '1000', required: true }),
      ),
      out,
      h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, t('holder.request.submit')),
    );
    const kindNow = () => form.querySelector(`input[name="${kindName}"]:checked`)?.value ?? 'correct';
    form.addEventListener('change', () => {
      fieldRow.hidden = kindNow() !== 'correct';
    });
    api(`/certificates/${cert.number}/request-fields`)
      .then(({ items }) => fill(fieldSelect, ...items.map((f) => h('option', { value: f.key }, f.label))))
      .catch((err) => fill(out, message('error', err.message)));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const kind = kindNow();
      const statement = form.elements.statement.value.trim();
      if (statement.length < 2) {
        fill(out, message('error', t('holder.request.statementRequired')));
        form.elements.statement.focus();
        return;
      }
      try {
        await api('/requests', {
          method: 'POST',
          json: {
            certificateNumber: cert.number,
            kind,
            field: kind === 'correct' ? fieldSelect.value : undefined,
            statement,
          },
        });
        form.elements.statement.value = '';
        fill(
          out,
          message('success', t('holder.request.done')),
          h('p', null, h('a', { href: '/holder/requests', onclick: go }, t('holder.nav.requests'))),
        );
      } catch (err) {
        fill(out, message('error', err.message));
      }
    });
    return form;
  }

  return { remindersPage, requestsPage, requestForm };
}
