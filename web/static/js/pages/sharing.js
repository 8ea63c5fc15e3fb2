/**
 * Sharing between departments (docs/sharing.md) for handlers: ask another department for a
 * certificate, decide the requests other departments sent (the inbox of access requests,
 * beside the issuance tasks), and fetch the annotated copy (加注件) once access is granted.
 */
import { h } from '../dom.js';
import { t, tOr, formatDateTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { pageHeader, section, messageArea, table, button, busy, field } from '../ui.js';

export const title = () => t('sharing.title');

async function downloadCopy(r) {
  const blob = await api(`/certificates/${encodeURIComponent(r.certificateNumber)}/fetch`, {
    json: { matter: r.matter, reason: r.reason },
  });
  const a = h('a', { href: URL.createObjectURL(blob), download: `${r.certificateNumber}-加注件.pdf` });
  document.body.append(a);
  a.click();
  a.remove();
}

export async function render(main, { query, navigate }) {
  const messages = messageArea();
  if (query.get('done')) messages.show('success', t(`sharing.done.${query.get('done')}`));
  const reload = (done) => navigate(`/sharing?done=${done}`, { replace: true });
  const [received, sent, grantsIn, grantsOut] = await Promise.all([
    api('/access-requests', { query: { box: 'received' } }).then(itemsOf),
    api('/access-requests', { query: { box: 'sent' } }).then(itemsOf),
    api('/sharing/grants', { query: { box: 'received' } }).then(itemsOf),
    api('/sharing/grants', { query: { box: 'issued' } }).then(itemsOf),
  ]);
  const grantsTable = (rows, emptyText, other) =>
    table(
      [
        { label: t('sharing.certificate'), cell: (g) => g.certificateNumber },
        { label: other === 'issuer' ? t('sharing.to') : t('sharing.from'), cell: (g) => g[other] },
        { label: t('sharing.matter'), cell: (g) => g.matter },
        { label: t('sharing.validUntil'), cell: (g) => formatDateTime(g.validUntil) },
        { label: t('sharing.statusLabel'), cell: (g) => tOr(`sharing.grant.${g.status}`, g.status) },
        { label: t('sharing.grantedBy'), cell: (g) => g.grantedBy },
      ],
      rows,
      { empty: emptyText },
    );
  const status = (r) =>
    h('span', { class: `badge badge-request-${r.status}` }, tOr(`sharing.status.${r.status}`, r.status));
  const what = (r) => r.certificateNumber || `${r.typeCode}（${t('sharing.allOfHolder')}）`;

  const number = h('input', { type: 'text', name: 'certificateNumber', required: true, autocomplete: 'off' });
  const matter = h('input', { type: 'text', name: 'matter', required: true, maxlength: 200 });
  const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 200 });
  const until = h('input', { type: 'date', name: 'validUntil', required: true });
  number.value = query.get('number') || '';
  const submit = button(t('sharing.submit'), null, { kind: 'primary', type: 'submit' });
  const form = h(
    'form',
    {
      class: 'form',
      onsubmit: (e) => {
        e.preventDefault();
        busy(submit, async () => {
          try {
            await api('/access-requests', {
              json: {
                certificateNumber: number.value,
                matter: matter.value,
                reason: reason.value,
                validUntil: until.value,
              },
            });
            await reload('sent');
          } catch (err) {
            messages.error(err);
          }
        });
      },
    },
    field(t('sharing.certificateNumber'), number, { required: true }).el,
    field(t('sharing.matter'), matter, { required: true }).el,
    field(t('sharing.reason'), reason, { required: true }).el,
    field(t('sharing.validUntil'), until, { required: true }).el,
    h('div', { class: 'form-actions' }, submit),
  );

  const decide = (r, decision) =>
    button(
      t(`sharing.${decision}`),
      async (e) => {
        await busy(e.currentTarget, async () => {
          try {
            const comment = decision === 'reject' ? t('sharing.rejectComment') : undefined;
            await api(`/access-requests/${r.id}/decision`, { json: { decision, ...(comment ? { comment } : {}) } });
            await reload(decision);
          } catch (err) {
            messages.error(err);
          }
        });
      },
      { kind: decision === 'approve' ? 'primary' : 'secondary' },
    );

  main.append(
    pageHeader(t('sharing.title')),
    messages.el,
    section(
      t('sharing.received'),
      table(
        [
          { label: t('sharing.from'), cell: (r) => `${r.requesterDepartment} · ${r.requesterName}` },
          { label: t('sharing.certificate'), cell: what },
          { label: t('sharing.matter'), cell: (r) => r.matter },
          { label: t('sharing.reason'), cell: (r) => r.reason },
          { label: t('sharing.validUntil'), cell: (r) => formatDateTime(r.validUntil) },
          {
            label: t('sharing.statusLabel'),
            cell: (r) =>
              h(
                'span',
                null,
                status(r),
                r.overdue ? h('span', { class: 'badge badge-overdue' }, t('inbox.overdue')) : null,
              ),
          },
          {
            label: '',
            cell: (r) =>
              r.status === 'open'
                ? h('span', { class: 'actions' }, decide(r, 'approve'), decide(r, 'reject'))
                : r.decidedBy || '',
          },
        ],
        received,
        { caption: t('sharing.received'), empty: t('sharing.noneReceived') },
      ),
    ),
    section(
      t('sharing.sent'),
      table(
        [
          { label: t('sharing.to'), cell: (r) => r.department },
          { label: t('sharing.certificate'), cell: what },
          { label: t('sharing.matter'), cell: (r) => r.matter },
          { label: t('sharing.validUntil'), cell: (r) => formatDateTime(r.validUntil) },
          { label: t('sharing.statusLabel'), cell: status },
          {
            label: '',
            cell: (r) =>
              r.status === 'approved' && r.grantIds.length && r.certificateNumber
                ? button(t('sharing.download'), async (e) => {
                    await busy(e.currentTarget, async () => {
                      try {
                        await downloadCopy(r);
                      } catch (err) {
                        messages.error(err);
                      }
                    });
                  })
                : r.comment || '',
          },
        ],
        sent,
        { caption: t('sharing.sent'), empty: t('sharing.noneSent') },
      ),
    ),
    section(t('sharing.new'), form),
    section(t('sharing.grantsReceived'), grantsTable(grantsIn, t('sharing.noGrants'), 'issuer')),
    section(t('sharing.grantsIssued'), grantsTable(grantsOut, t('sharing.noGrants'), 'department')),
  );
}
