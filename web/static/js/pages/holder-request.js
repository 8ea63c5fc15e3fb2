import { h } from '../dom.js';
import { t, tOr, formatDate, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, section, messageArea, facts, statusBadge, busy, button, field } from '../ui.js';

export const title = (ctx) => t('request.title', { id: ctx.params.id });

/**
 * A holder's request (注销申请 / 异议, docs/holders.md) as the department sees it: what the
 * holder asks, the certificate, and — for those who decide — accept or reject with a comment.
 */
export async function render(main, { params, query, navigate }) {
  const messages = messageArea();
  let body;
  try {
    body = await api(`/holder-requests/${encodeURIComponent(params.id)}`);
  } catch (err) {
    main.append(pageHeader(t('request.title', { id: params.id })), messages.el);
    messages.error(err);
    return;
  }
  const { request, task, certificate: cert } = body;
  if (query.get('done')) messages.show('success', t(`request.done.${query.get('done')}`));

  const asked = facts([
    [t('request.kind'), t(`request.kind.${request.kind}`)],
    request.field ? [t('request.field'), `${request.field.label}（${request.field.key}）`] : null,
    [t('request.statement'), h('span', { class: 'statement' }, request.statement)],
    [t('request.requestedBy'), request.requestedBy],
    [t('request.createdAt'), formatDateTime(request.createdAt)],
    [t('task.status'), statusBadge('request', request.status)],
    request.outcome ? [t('request.outcome'), t(`request.outcome.${request.outcome}`)] : null,
    request.comment ? [t('request.comment'), request.comment] : null,
    request.decidedBy ? [t('request.decidedBy'), `${request.decidedBy} · ${formatDateTime(request.decidedAt)}`] : null,
  ]);
  const certFacts = facts([
    [t('request.certificate'), h('a', { href: `/certificates/${encodeURIComponent(cert.number)}` }, cert.number)],
    [t('inbox.col.type'), cert.type?.name],
    [t('inbox.col.holder'), `${cert.holder?.name}（${cert.holder?.id}）`],
    [t('request.certStatus'), statusBadge('certificate', cert.status)],
    [t('cert.validity'), cert.validUntil ? formatDate(cert.validUntil) : t('holder.permanent')],
  ]);
  const taskFacts = facts([
    [t('task.role'), tOr(`role.${task.role}`, task.role)],
    [t('task.department'), task.department],
    [
      t('task.due'),
      task.dueAt
        ? h(
            'span',
            null,
            formatDateTime(task.dueAt),
            task.overdue ? h('span', { class: 'badge badge-overdue' }, t('inbox.overdue')) : null,
          )
        : '—',
    ],
  ]);

  main.append(
    pageHeader(
      t('request.heading', { kind: t(`request.kind.${request.kind}`), number: cert.number }),
      h('a', { href: '/inbox', class: 'btn btn-secondary' }, t('task.backToInbox')),
    ),
    messages.el,
    h(
      'div',
      { class: 'two-col' },
      h('div', { class: 'col-main' }, section(t('request.asked'), asked), section(t('request.certificate'), certFacts)),
      h(
        'div',
        { class: 'col-side' },
        section(t('task.thisTask'), taskFacts, body.mayDecide ? decisionForm(request, messages, navigate) : null),
      ),
    ),
  );
}

function decisionForm(request, messages, navigate) {
  const comment = field(t('request.comment'), h('textarea', { rows: '3', maxlength: '2000' }), {
    hint: t('request.commentHint'),
  });
  const decide = (decision, btn) =>
    busy(btn, async () => {
      comment.setError(null);
      const text = comment.control.value.trim();
      if (decision === 'reject' && !text) {
        comment.setError(t('request.commentRequired'));
        comment.control.focus();
        return;
      }
      try {
        await api(`/holder-requests/${encodeURIComponent(request.id)}/decision`, {
          json: { decision, comment: text || undefined },
        });
        navigate(`/requests/${encodeURIComponent(request.id)}?done=${decision}`, { replace: true });
      } catch (err) {
        messages.error(err);
      }
    });
  const acceptLabel = request.kind === 'cancel' ? t('request.acceptCancel') : t('request.accept');
  const accept = button(acceptLabel, () => decide('accept', accept), { kind: 'primary' });
  const reject = button(t('request.reject'), () => decide('reject', reject), { kind: 'danger' });
  return h(
    'form',
    { class: 'decision', onsubmit: (e) => e.preventDefault() },
    request.kind === 'cancel' ? h('p', { class: 'hint' }, t('request.cancelHint')) : null,
    comment.el,
    h('div', { class: 'actions' }, accept, ' ', reject),
  );
}
