import { h, fill } from '../dom.js';
import { t, tOr, formatDate, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import { hasRole } from '../session.js';
import { pageHeader, section, messageArea, facts, statusBadge, busy, button, confirmDialog, pdfViewer } from '../ui.js';
import { faceDataView, loadTypeFields } from '../face-view.js';
import { lifecycleActions, versionsSection } from './certificate-actions.js';

export const title = (ctx) => `${t('cert.title')} ${ctx.params.number}`;

/** One issued certificate for staff: catalog data, status, face data, the signed PDF; revoke for admins. */
export async function render(main, { params, query, navigate }) {
  const messages = messageArea();
  const reveal = query.get('reveal') === 'holderId';
  let cert;
  try {
    cert = await api(`/certificates/${encodeURIComponent(params.number)}`, {
      query: { reveal: reveal ? 'holderId' : undefined },
    });
  } catch (err) {
    main.append(pageHeader(t('cert.title')), messages.el);
    messages.error(err, 'certificate');
    return;
  }
  const here = `/certificates/${encodeURIComponent(cert.number)}`;
  const { fields } = await loadTypeFields(cert.type?.code, cert.type?.version);
  if (query.get('revoked')) messages.show('success', t('cert.revokedMsg'));
  if (query.get('suspended')) messages.show('success', t('cert.suspendedMsg'));
  if (query.get('reinstated')) messages.show('success', t('cert.reinstatedMsg'));

  const actions = [
    h('a', { href: `/verify/${encodeURIComponent(cert.number)}`, class: 'btn btn-secondary' }, t('cert.verify')),
  ];
  const lifecycle = lifecycleActions(cert, { fields, messages, navigate, here });
  actions.push(...lifecycle.buttons);
  if (
    (cert.status === 'valid' || cert.status === 'suspended') &&
    hasRole('department-admin', cert.issuer?.department)
  ) {
    const revoke = button(
      t('cert.revoke'),
      () =>
        busy(revoke, async () => {
          const reason = await confirmDialog({
            title: t('cert.revokeTitle', { number: cert.number }),
            body: t('cert.revokeBody'),
            confirmLabel: t('cert.revoke'),
            danger: true,
            reason: true,
          });
          if (reason === false) return;
          try {
            await api(`/certificates/${encodeURIComponent(cert.number)}/revoke`, { json: { reason } });
            navigate(`${here}?revoked=1`, { replace: true });
          } catch (err) {
            messages.error(err);
          }
        }),
      { kind: 'danger' },
    );
    actions.push(revoke);
  }

  const holder = cert.holder || {};
  const holderId = h('span', { class: 'mono' }, holder.id || '');
  const revealLink = holder.idMasked
    ? h('a', { href: `${here}?reveal=holderId`, class: 'small reveal' }, t('cert.reveal'))
    : null;

  const pdfOut = h('div');
  const pdfButton = button(t('cert.showPdf'), () =>
    busy(pdfButton, async () => {
      try {
        const blob = await api(`/certificates/${encodeURIComponent(cert.number)}/pdf`, {
          accept: 'application/pdf, application/problem+json',
        });
        fill(
          pdfOut,
          pdfViewer(blob, { title: t('cert.pdfFrame', { number: cert.number }), filename: `${cert.number}.pdf` }),
        );
      } catch (err) {
        messages.error(err);
      }
    }),
  );

  main.append(
    pageHeader(`${cert.type?.name || ''} ${cert.number}`, ...actions),
    messages.el,
    h(
      'div',
      { class: 'two-col' },
      h(
        'div',
        { class: 'col-main' },
        section(
          t('cert.basics'),
          facts([
            [t('certs.number'), h('span', { class: 'mono' }, cert.number)],
            [t('cert.identifier'), h('span', { class: 'mono small' }, cert.identifier)],
            [t('certs.type'), `${cert.type?.name} (${cert.type?.code} v${cert.type?.version})`],
            [
              t('certs.status'),
              h(
                'span',
                null,
                statusBadge('certificate', cert.status),
                cert.statusReason ? ` ${cert.statusReason}` : '',
                cert.suspendedUntil ? ` ${t('cert.suspendedUntil', { until: formatDate(cert.suspendedUntil) })}` : '',
              ),
            ],
            [t('certs.holder'), h('span', null, holder.name, ' ', holderId, ' ', revealLink)],
            [t('cert.holderKind'), tOr(`holder.kind.${holder.kind}`, holder.kind)],
            [t('certs.issuer'), `${cert.issuer?.name || ''} (${cert.issuer?.department || ''})`],
            [t('certs.issuedAt'), formatDateTime(cert.issuedAt)],
            [
              t('cert.validity'),
              `${formatDate(cert.validFrom)} — ${cert.validUntil ? formatDate(cert.validUntil) : t('validity.permanent')}`,
            ],
            [
              t('cert.seal'),
              cert.seal
                ? `${cert.seal.name} · ${cert.seal.sealedBy || ''} · ${formatDateTime(cert.seal.sealedAt)}`
                : '—',
            ],
            [
              t('cert.catalog'),
              cert.catalog?.registeredAt
                ? t('cert.registered', { at: formatDateTime(cert.catalog.registeredAt) })
                : t('cert.notRegistered'),
            ],
            [t('cert.pdfHash'), h('code', { class: 'small' }, cert.documents?.pdfSha256 || '')],
          ]),
        ),
        section(t('task.faceData'), faceDataView(fields, cert.faceData || {})),
        versionsSection(cert, fields),
        lifecycle.panel,
      ),
      h('div', { class: 'col-side' }, section(t('cert.document'), pdfButton, pdfOut)),
    ),
  );
}
