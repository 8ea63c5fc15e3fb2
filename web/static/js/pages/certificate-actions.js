import { h, fill } from '../dom.js';
import { t, tOr, formatDate } from '../i18n.js';
import { api } from '../api.js';
import { hasRole } from '../session.js';
import { section, statusBadge, busy, button, confirmDialog, field } from '../ui.js';
import { buildFaceForm } from '../face-form.js';

/**
 * The certificate page's life-cycle actions (docs/lifecycle.md): change / renew / reissue for the
 * issuing department's fillers (each is an application that supersedes this certificate when
 * sealed), suspend / reinstate for its admin; and the chain of versions.
 */
export function lifecycleActions(cert, { fields, messages, navigate, here }) {
  const dept = cert.issuer?.department;
  const number = encodeURIComponent(cert.number);
  const buttons = [];
  const panel = h('div', { class: 'lifecycle-panel' });

  async function apply(kind, extra) {
    try {
      const app = await api('/applications', {
        json: { typeCode: cert.type?.code, kind, replaces: cert.number, ...extra },
      });
      navigate(`/applications/${encodeURIComponent(app.id)}`);
    } catch (err) {
      messages.error(err);
    }
  }

  if (cert.status === 'valid' && hasRole('filler', dept)) {
    const change = button(t('cert.change'), () => {
      const form = buildFaceForm(fields, cert.faceData || {});
      const reason = h('input', { type: 'text', maxlength: '500', name: 'reason' });
      const send = button(t('cert.changeSubmit'), () =>
        busy(send, async () => {
          const { data, problems } = form.read();
          const items = form.showProblems(problems);
          if (items.length) return;
          // Only what differs: the rest is carried from this certificate by the server.
          const changed = Object.fromEntries(
            Object.entries(data).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(cert.faceData?.[k])),
          );
          if (!Object.keys(changed).length) return messages.show('error', t('cert.nothingChanged'));
          await apply('change', { faceData: changed, reason: reason.value.trim() || undefined });
        }),
      );
      fill(panel, section(t('cert.changeTitle'), form.el, field(t('common.reason'), reason).el, send));
    });
    buttons.push(change);
    if (cert.validUntil) {
      const renew = button(t('cert.renew'), () =>
        busy(renew, async () => {
          const ok = await confirmDialog({
            title: t('cert.renewTitle', { number: cert.number }),
            body: t('cert.renewBody', { from: formatDate(cert.validUntil) }),
            confirmLabel: t('cert.renew'),
          });
          if (ok !== false) await apply('renewal', {});
        }),
      );
      buttons.push(renew);
    }
    const reissue = button(t('cert.reissue'), () =>
      busy(reissue, async () => {
        const reason = await confirmDialog({
          title: t('cert.reissueTitle', { number: cert.number }),
          body: t('cert.reissueBody'),
          confirmLabel: t('cert.reissue'),
          reason: true,
        });
        if (reason !== false) await apply('reissue', { reason });
      }),
    );
    buttons.push(reissue);
  }

  if (hasRole('department-admin', dept) && cert.status === 'valid') {
    const suspend = button(t('cert.suspend'), () => {
      const reason = h('textarea', { rows: '2', name: 'suspendReason' });
      const until = h('input', { type: 'date', name: 'suspendUntil' });
      const send = button(
        t('cert.suspend'),
        () =>
          busy(send, async () => {
            try {
              await api(`/certificates/${number}/suspend`, {
                json: { reason: reason.value.trim(), until: until.value || undefined },
              });
              navigate(`${here}?suspended=1`, { replace: true });
            } catch (err) {
              messages.error(err);
            }
          }),
        { kind: 'danger' },
      );
      fill(
        panel,
        section(
          t('cert.suspendTitle'),
          field(t('common.reason'), reason, { required: true }).el,
          field(t('cert.suspendUntil'), until, { hint: t('cert.suspendUntilHint') }).el,
          send,
        ),
      );
    });
    buttons.push(suspend);
  }
  if (hasRole('department-admin', dept) && cert.status === 'suspended') {
    const reinstate = button(t('cert.reinstate'), () =>
      busy(reinstate, async () => {
        const reason = await confirmDialog({
          title: t('cert.reinstateTitle', { number: cert.number }),
          confirmLabel: t('cert.reinstate'),
          reason: true,
        });
        if (reason === false) return;
        try {
          await api(`/certificates/${number}/reinstate`, { json: { reason } });
          navigate(`${here}?reinstated=1`, { replace: true });
        } catch (err) {
          messages.error(err);
        }
      }),
    );
    buttons.push(reinstate);
  }
  return { buttons, panel };
}

/** Every version of the certificate, oldest first, with the fields each one changed. */
export function versionsSection(cert, fields) {
  if (!cert.versions?.length) return null;
  const label = (key) => fields.find((f) => f.key === key)?.label || key;
  const rows = cert.versions.map((v) =>
    h(
      'tr',
      null,
      h(
        'td',
        null,
        v.number === cert.number
          ? h('strong', { class: 'mono' }, v.number)
          : h('a', { href: `/certificates/${encodeURIComponent(v.number)}`, class: 'mono' }, v.number),
      ),
      h('td', null, tOr(`cert.kind.${v.kind}`, v.kind), v.reason ? ` · ${v.reason}` : ''),
      h('td', null, statusBadge('certificate', v.status)),
      h('td', null, v.changedFields.map(label).join('、') || '—'),
    ),
  );
  return section(
    t('cert.versions'),
    h(
      'table',
      { class: 'table versions' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, t('certs.number')),
          h('th', null, t('cert.versionKind')),
          h('th', null, t('certs.status')),
          h('th', null, t('cert.changedFields')),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
}
