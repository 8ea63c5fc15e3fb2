/**
 * Approve / reject / return for correction, with a comment — for the task page and the
 * sealing page. The server's validator has the last word (role, department, four-eyes,
 * current step); its refusals come back as sentences from errors.js.
 */
import { h, uid } from './dom.js';
import { t, tOr, formatDateTime } from './i18n.js';
import { api } from './api.js';
import { currentUser } from './session.js';
import { field, messageArea, busy, facts } from './ui.js';

const DECISIONS = ['approve', 'return', 'reject'];

function assigneeName(a) {
  if (!a) return '';
  return typeof a === 'object' ? a.name || a.displayName || a.username || String(a.id ?? '') : String(a);
}

function isMine(a) {
  const me = currentUser();
  if (!a || !me) return false;
  if (typeof a === 'object') return a.id === me.id || a.username === me.username;
  return a === me.username || a === me.displayName || a === String(me.id);
}

/**
 * decisionPanel(task, { onDone, sealing }) → element. sealing: the sealing page's wording
 * ("confirm sealing") and only the approve choice plus return.
 */
export function decisionPanel(task, { onDone, sealing = false } = {}) {
  const messages = messageArea();
  if (task.status && task.status !== 'open') {
    return h(
      'div',
      { class: 'decision-done' },
      facts([
        [
          t('task.decision'),
          tOr(`decision.${task.decision}`, task.decision || tOr(`status.task.${task.status}`, task.status)),
        ],
        [
          t('task.decidedBy'),
          // A delegate's decision reads "X acting for Y" (docs/issuance.md).
          task.actingFor
            ? t('task.actingFor', { who: task.decidedBy, whom: task.actingFor })
            : task.decidedBy || assigneeName(task.assignee),
        ],
        [t('task.decidedAt'), formatDateTime(task.decidedAt)],
        [t('task.comment'), task.comment],
      ]),
    );
  }

  const approveLabel = task.role === 'sealing-officer' || sealing ? t('decision.seal') : t('decision.approve');
  const choices = sealing ? ['approve', 'return'] : DECISIONS;
  const groupName = uid('decision');
  const radios = choices.map((d) => {
    const id = uid(`d-${d}`);
    const input = h('input', { type: 'radio', name: groupName, value: d, id, checked: d === 'approve' });
    return h(
      'div',
      { class: `radio radio-${d}` },
      input,
      h('label', { for: id }, d === 'approve' ? approveLabel : t(`decision.${d}`)),
    );
  });
  const comment = h('textarea', { rows: '3', name: 'comment' });
  const fComment = field(t('task.comment'), comment, { hint: t('task.commentHint') });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('task.submitDecision'));
  let assignee = task.assignee;
  // Who holds the task, with claim / put back: one person works on a task at a time.
  const claimText = h('span');
  const claimButton = h('button', { type: 'button', class: 'btn btn-small btn-secondary' });
  const showClaim = () => {
    claimText.textContent = !assignee
      ? t('task.unclaimed')
      : isMine(assignee)
        ? t('task.claimedByYou')
        : t('task.claimedBy', { name: assigneeName(assignee) });
    claimButton.hidden = !!assignee && !isMine(assignee);
    claimButton.textContent = assignee ? t('task.release') : t('inbox.claim');
  };
  claimButton.addEventListener('click', () =>
    busy(claimButton, async () => {
      messages.clear();
      try {
        const mine = !!assignee;
        const updated = await api(`/tasks/${encodeURIComponent(task.id)}/claim`, { json: { release: mine } });
        assignee =
          updated && 'assignee' in updated
            ? updated.assignee
            : mine
              ? null
              : { id: currentUser()?.id, name: currentUser()?.username };
        showClaim();
        messages.show('success', mine ? t('task.released') : t('task.claimedNow'));
      } catch (err) {
        messages.error(err, 'claim');
      }
    }),
  );
  showClaim();
  const claimInfo = h('p', { class: 'claim muted' }, claimText, ' ', claimButton);

  const form = h(
    'form',
    {
      class: 'decision-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        fComment.setError(null);
        const decision = form.querySelector(`input[name="${groupName}"]:checked`)?.value || 'approve';
        const text = comment.value.trim();
        if (decision !== 'approve' && !text) {
          fComment.setError(t('task.commentRequired'));
          comment.focus();
          return;
        }
        await busy(submit, async () => {
          try {
            if (!assignee) {
              // Deciding an unclaimed task claims it first; someone else's claim is the server's to refuse.
              const claimed = await api(`/tasks/${encodeURIComponent(task.id)}/claim`, { json: {} }).catch((err) => {
                if (err.status !== 409) throw Object.assign(err, { claim: true });
                return null;
              });
              if (claimed) {
                assignee = claimed.assignee ?? { id: currentUser()?.id, name: currentUser()?.username };
                showClaim();
              }
            }
            await api(`/tasks/${encodeURIComponent(task.id)}/decision`, {
              json: { decision, comment: text || undefined },
            });
            messages.show('success', t(`task.done.${decision}`)).focus();
            if (onDone) await onDone(decision);
          } catch (err) {
            messages.error(err, err.claim ? 'claim' : 'decision', (f) => (f === 'comment' ? t('task.comment') : f));
            messages.el.querySelector('[role=alert]')?.focus();
          }
        });
      },
    },
    h('fieldset', { class: 'radios' }, h('legend', null, t('task.yourDecision')), radios),
    fComment.el,
    h('div', { class: 'form-actions' }, submit),
  );
  return h('div', { class: 'decision' }, claimInfo, messages.el, form);
}
