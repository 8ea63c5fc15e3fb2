import { h, fill } from '../dom.js';
import { t, tOr, pick, formatDate, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, section, messageArea, field, busy, facts } from '../ui.js';
import { offlineCheck } from '../offline-check.js';

export const title = (ctx) => (ctx.params.number ? `${t('verify.title')} ${ctx.params.number}` : t('verify.title'));

/** 'passed' | 'failed' | 'indeterminate' from the many ways a verifier can say it. */
function outcome(c) {
  const v = c.result ?? c.status ?? c.outcome ?? c.ok ?? c.passed ?? c.valid;
  if (v === true || /^(passed|pass|ok|valid|success|true)$/i.test(String(v))) return 'passed';
  if (v === false || /^(failed|fail|invalid|error|false)$/i.test(String(v))) return 'failed';
  return 'indeterminate';
}

/** The report's checks as [{ name, result, reason }], whether sent as a list or as a map. */
export function normaliseChecks(report) {
  const raw = report.checks ?? report.report?.checks ?? [];
  const list = Array.isArray(raw)
    ? raw
    : Object.entries(raw).map(([name, v]) => (v && typeof v === 'object' ? { name, ...v } : { name, result: v }));
  return list.map((c) => ({
    name: String(c.id ?? c.name ?? c.check ?? c.code ?? ''),
    title: c.title || c.titleEn ? { zh: c.title, en: c.titleEn } : null,
    result: outcome(c),
    reason: c.reason ?? c.message ?? c.detail ?? '',
  }));
}

/** Overall: the report's own word, else every check passed and the status is valid. */
function overall(report, checks) {
  if (typeof report.valid === 'boolean') return report.valid ? 'passed' : 'failed';
  const r = report.result ?? report.outcome ?? report.verdict;
  if (r !== undefined) return outcome({ result: r });
  if (checks.some((c) => c.result === 'failed')) return 'failed';
  if (checks.length && checks.every((c) => c.result === 'passed')) return 'passed';
  return 'indeterminate';
}

/** A check in plain words: the dictionary has a sentence per known check and outcome. */
function checkSentence(c, params) {
  const key = `check.${c.name}.${c.result}`;
  const generic = t(`check.generic.${c.result}`, { name: tOr(`check.${c.name}`, c.title ? pick(c.title) : c.name) });
  return tOr(key, generic, params);
}

export function reportView(report) {
  const checks = normaliseChecks(report);
  const result = overall(report, checks);
  const cert = report.certificate ?? report.record ?? {};
  const status = report.status ?? cert.status;
  const statusLabel = status ? tOr(`status.certificate.${status}`, status) : t('verify.statusUnknown');
  const failed = checks.filter((c) => c.result === 'failed');
  // Genuine but ended (revoked, expired, …): say that, not just "failed".
  const onlyStatus =
    result === 'failed' && failed.length === 1 && failed[0].name === 'status' && status && status !== 'valid';
  const headline =
    result === 'passed'
      ? t('verify.valid')
      : onlyStatus
        ? t('verify.genuineButNot', { status: statusLabel })
        : result === 'failed'
          ? t('verify.invalid')
          : t('verify.indeterminate');
  const holder = cert.holder ?? {};
  const type = cert.type ?? {};
  const issuer = cert.issuer ?? {};
  const validity = cert.validity ?? { from: cert.validFrom, until: cert.validUntil };
  return h(
    'div',
    { class: `verify-report verify-${result}` },
    h(
      'div',
      { class: `verdict verdict-${result}`, role: 'status' },
      h(
        'span',
        { class: 'verdict-mark', 'aria-hidden': 'true' },
        result === 'passed' ? '✓' : result === 'failed' ? '✗' : '?',
      ),
      h(
        'div',
        null,
        h('p', { class: 'verdict-title' }, headline),
        status
          ? h(
              'p',
              null,
              t('verify.statusLine', { status: tOr(`status.certificate.${status}`, status) }),
              cert.statusReason ? ` — ${cert.statusReason}` : '',
            )
          : null,
        // The registered certificate is fine, but this copy is not it: say so, or "valid" misleads.
        result === 'failed' && status === 'valid' && report.input === 'pdf'
          ? h('p', { class: 'verdict-note' }, t('verify.copyNotGenuine'))
          : null,
      ),
    ),
    Object.keys(cert).length
      ? facts([
          [t('certs.number'), h('span', { class: 'mono' }, cert.number ?? report.number ?? '')],
          [t('certs.type'), type.name ?? cert.typeName ?? ''],
          [t('certs.holder'), [holder.name ?? cert.holderName, holder.id ?? holder.idMasked].filter(Boolean).join(' ')],
          [t('certs.issuer'), issuer.name ?? cert.issuerName ?? ''],
          [t('certs.issuedAt'), formatDateTime(cert.issuedAt)],
          [
            t('cert.validity'),
            validity.from
              ? `${formatDate(validity.from)} — ${validity.until ? formatDate(validity.until) : t('validity.permanent')}`
              : '',
          ],
        ])
      : null,
    h('h3', null, t('verify.checks')),
    checks.length
      ? h(
          'ul',
          { class: 'checks' },
          checks.map((c) =>
            h(
              'li',
              { class: `check check-${c.result}` },
              h(
                'span',
                { class: 'check-mark', 'aria-hidden': 'true' },
                c.result === 'passed' ? '✓' : c.result === 'failed' ? '✗' : '?',
              ),
              h('span', { class: 'sr-only' }, t(`verify.result.${c.result}`)),
              // The sentence is ours, in the reader's language; the verifier's own reason stays below for experts.
              h(
                'div',
                null,
                h('p', { class: 'check-text' }, checkSentence(c, { status: statusLabel })),
                c.reason ? h('p', { class: 'muted small check-reason' }, c.reason) : null,
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, t('verify.noChecks')),
    report.checkedAt || report.verifiedAt
      ? h('p', { class: 'muted small' }, t('verify.at', { at: formatDateTime(report.checkedAt || report.verifiedAt) }))
      : null,
  );
}

/** The offline check's result (web/static/js/offline-check.js): computed here, before any live answer. */
export function offlineView(r) {
  const f = r.facts;
  return h(
    'section',
    { class: `card offline-check offline-${r.result}`, 'data-offline': r.result },
    h('h2', null, t('verify.offline.title')),
    h(
      'div',
      { class: `verdict verdict-${r.result === 'unavailable' ? 'indeterminate' : r.result}`, role: 'status' },
      h(
        'span',
        { class: 'verdict-mark', 'aria-hidden': 'true' },
        r.result === 'passed' ? '✓' : r.result === 'failed' ? '✗' : '?',
      ),
      h(
        'div',
        null,
        h('p', { class: 'verdict-title' }, t(`verify.offline.${r.result}`)),
        r.reason ? h('p', { class: 'muted small' }, t(`verify.offline.reason.${r.reason}`)) : null,
      ),
    ),
    f
      ? facts([
          [t('certs.number'), h('span', { class: 'mono' }, f.number)],
          [t('certs.holder'), f.holderName],
          [
            t('cert.validity'),
            `${formatDate(f.validFrom)} — ${f.validUntil ? formatDate(f.validUntil) : t('validity.permanent')}`,
          ],
          [t('verify.offline.department'), r.departmentName ?? f.department],
        ])
      : null,
    h('p', { class: 'muted small' }, t('verify.offline.note')),
  );
}

/**
 * Public: /verify/:number (the QR code's target) shows the report for that number;
 * /verify lets anyone type a number or upload a PDF to check it.
 */
export async function render(main, { params, navigate }) {
  const messages = messageArea();
  const out = h('div', { class: 'verify-out', 'aria-live': 'polite' });
  const number = h('input', {
    type: 'text',
    class: 'mono',
    value: params.number || '',
    spellcheck: 'false',
    autocomplete: 'off',
  });
  const fNumber = field(t('certs.number'), number, { hint: t('verify.numberHint') });
  const byNumber = h(
    'form',
    {
      class: 'inline-form',
      novalidate: true,
      onsubmit: (e) => {
        e.preventDefault();
        fNumber.setError(null);
        const n = number.value.trim();
        if (!n) {
          fNumber.setError(t('v.required'));
          number.focus();
          return;
        }
        navigate(`/verify/${encodeURIComponent(n.toUpperCase())}`);
      },
    },
    fNumber.el,
    h('button', { type: 'submit', class: 'btn btn-primary' }, t('verify.check')),
  );

  const file = h('input', { type: 'file', accept: 'application/pdf,.pdf' });
  const fFile = field(t('verify.pdf'), file, { hint: t('verify.pdfHint') });
  const upload = h('button', { type: 'submit', class: 'btn btn-primary' }, t('verify.upload'));
  const byFile = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        fFile.setError(null);
        const f = file.files && file.files[0];
        if (!f) {
          fFile.setError(t('verify.choosePdf'));
          file.focus();
          return;
        }
        await busy(upload, async () => {
          fill(out, h('p', { class: 'loading', role: 'status' }, t('verify.checking')));
          try {
            const report = await api('/verify', { body: f, type: 'application/pdf' });
            fill(out, section(t('verify.fileReport', { name: f.name }), reportView(report)));
          } catch (err) {
            fill(out);
            messages.error(err, 'certificate');
          }
        });
      },
    },
    fFile.el,
    h('div', { class: 'form-actions' }, upload),
  );

  const offline = h('div', { class: 'offline-out', 'aria-live': 'polite' });
  main.append(
    pageHeader(t('verify.heading')),
    h('p', { class: 'muted' }, t('verify.intro')),
    messages.el,
    offline,
    out,
    h('div', { class: 'two-col even' }, section(t('verify.byNumber'), byNumber), section(t('verify.byFile'), byFile)),
  );

  if (params.number) {
    // A printed QR code's signature first, in this browser; then the live status from the server.
    if (location.hash) {
      const r = await offlineCheck(params.number, location.hash);
      if (r.result !== 'unavailable' || r.reason !== 'no-token') fill(offline, offlineView(r));
    }
    fill(out, h('p', { class: 'loading', role: 'status' }, t('verify.checking')));
    try {
      const report = await api(`/verify/${encodeURIComponent(params.number)}`);
      fill(out, section(t('verify.reportFor', { number: params.number }), reportView(report)));
    } catch (err) {
      fill(out);
      messages.error(err, 'certificate');
    }
  }
}
