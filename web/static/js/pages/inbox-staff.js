/**
 * The inbox's tools for staff at scale (docs/issuance.md, "Assignment and delegation", "Bulk
 * decisions"): select many tasks and decide them at once, hand a task to a colleague (department
 * admins), and name a delegate for an absence. Each decision is still checked one by one on the
 * server; the answer says what happened to each.
 */
import { h, fill, uid } from '../dom.js';
import { t, formatDate } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { currentUser, hasRole } from '../session.js';
import { field, button, busy, section } from '../ui.js';

const DECISIONS = ['approve', 'return', 'reject'];

/** Selection of tasks on the page: a checkbox per row and one for all. */
export function taskSelection(onChange) {
  const chosen = new Set();
  const boxes = new Map();
  const all = h('input', {
    type: 'checkbox',
    'aria-label': t('inbox.bulk.selectAll'),
    onchange: () => {
      for (const [id, box] of boxes) {
        box.checked = all.checked;
        if (all.checked) chosen.add(id);
        else chosen.delete(id);
      }
      onChange(chosen.size);
    },
  });
  return {
    header: all,
    reset() {
      chosen.clear();
      boxes.clear();
      all.checked = false;
      onChange(0);
    },
    cell(task, label) {
      const box = h('input', {
        type: 'checkbox',
        value: String(task.id),
        'aria-label': t('inbox.bulk.select', { name: label }),
        onchange: () => {
          if (box.checked) chosen.add(task.id);
          else chosen.delete(task.id);
          all.checked = chosen.size === boxes.size;
          onChange(chosen.size);
        },
      });
      boxes.set(task.id, box);
      return box;
    },
    ids: () => [...chosen],
  };
}

/** The bar that decides the selected tasks: one decision and one comment for all. */
export function bulkPanel(selection, { messages, onDone }) {
  const count = h('p', { class: 'muted', role: 'status' }, t('inbox.bulk.count', { n: 0 }));
  const decision = h(
    'select',
    null,
    DECISIONS.map((d) => h('option', { value: d }, t(`decision.${d}`))),
  );
  const comment = h('textarea', { rows: '2', maxlength: '2000' });
  const commentField = field(t('task.comment'), comment, { hint: t('task.commentHint') });
  const submit = button(t('inbox.bulk.submit'), () => busy(submit, send), { kind: 'primary' });

  async function send() {
    commentField.setError(null);
    const taskIds = selection.ids();
    if (!taskIds.length) {
      messages.show('error', t('inbox.bulk.none'));
      return;
    }
    if (decision.value !== 'approve' && !comment.value.trim()) {
      commentField.setError(t('task.commentRequired'));
      comment.focus();
      return;
    }
    try {
      const body = { taskIds, decision: decision.value, comment: comment.value.trim() || undefined };
      const answer = await api('/tasks/decisions', { json: body });
      const refused = answer.items.filter((i) => i.outcome === 'refused');
      const params = { done: answer.counts.decided, refused: answer.counts.refused };
      const box = messages.show(
        refused.length ? 'warning' : 'success',
        t(`inbox.bulk.result.${decision.value}`, params),
        // Four-eyes in plain words first, the server's own sentence after it.
        refused.map((i) => {
          const reason = /four-eyes/.test(i.reason ?? '') ? `${t('err.fourEyes')}（${i.reason}）` : i.reason;
          return t('inbox.bulk.refusedItem', { id: i.taskId, reason });
        }),
      );
      box.focus();
      comment.value = '';
      await onDone();
    } catch (err) {
      messages.error(err);
    }
  }

  return {
    el: h(
      'fieldset',
      { class: 'bulk-panel' },
      h('legend', null, t('inbox.bulk.title')),
      count,
      field(t('task.yourDecision'), decision).el,
      commentField.el,
      submit,
    ),
    setCount(n) {
      fill(count, t('inbox.bulk.count', { n }));
    },
  };
}

/** "转办": a department admin hands the task to a colleague who holds the step's role. */
export function assignButton(task, { messages, onDone }) {
  if (!hasRole('department-admin', task.department)) return null;
  const open = button(t('inbox.assign.button'), () => busy(open, choose), {
    kind: 'small btn-secondary',
    'aria-label': t('inbox.assign.label', { id: task.id }),
  });
  async function choose() {
    let people;
    try {
      people = itemsOf(await api(`/tasks/${encodeURIComponent(task.id)}/assignees`));
    } catch (err) {
      messages.error(err);
      return;
    }
    const select = h(
      'select',
      null,
      people.map((p) => h('option', { value: String(p.id) }, `${p.displayName}（${p.username}）`)),
    );
    const titleId = uid('dlg');
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, t('inbox.assign.title', { step: task.stepName || '' })),
        people.length ? field(t('inbox.assign.to'), select).el : h('p', null, t('inbox.assign.nobody')),
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'btn btn-secondary' }, t('common.cancel')),
          people.length
            ? h('button', { type: 'submit', value: 'ok', class: 'btn btn-primary' }, t('inbox.assign.confirm'))
            : null,
        ),
      ),
    );
    dlg.addEventListener('close', async () => {
      const ok = dlg.returnValue === 'ok';
      dlg.remove();
      open.focus();
      if (!ok) return;
      try {
        const done = await api(`/tasks/${encodeURIComponent(task.id)}/assign`, {
          json: { userId: Number(select.value) },
        });
        messages.show('success', t('inbox.assign.done', { name: done.assignee?.name ?? '' }));
        await onDone();
      } catch (err) {
        messages.error(err);
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    (people.length ? select : dlg.querySelector('button')).focus();
  }
  return open;
}

/** "委托代办": my delegations (given and received), and a form to name a delegate for a period. */
export function delegationSection(messages) {
  const list = h('div');
  const who = h('select');
  const until = h('input', { type: 'date', required: true });
  const reason = h('input', { type: 'text', maxlength: '200' });
  const untilField = field(t('inbox.delegate.until'), until, { required: true });
  const add = button(t('inbox.delegate.submit'), () => busy(add, create), { kind: 'secondary' });

  async function load() {
    try {
      const [mine, candidates] = await Promise.all([api('/delegations'), api('/delegations/candidates')]);
      fill(
        who,
        itemsOf(candidates).map((p) => h('option', { value: String(p.id) }, `${p.displayName}（${p.username}）`)),
      );
      const items = itemsOf(mine);
      fill(
        list,
        items.length
          ? h(
              'ul',
              { class: 'plain-list' },
              items.map((g) => {
                const given = g.user.id === currentUser()?.id;
                const text = t(given ? 'inbox.delegate.given' : 'inbox.delegate.received', {
                  user: g.user.name,
                  delegate: g.delegate.name,
                  from: formatDate(g.startsAt),
                  until: formatDate(g.endsAt),
                });
                const revoke = button(t('inbox.delegate.revoke'), () => busy(revoke, () => end(g)), {
                  kind: 'small btn-secondary',
                });
                return h('li', null, text, g.reason ? `（${g.reason}）` : '', ' ', revoke);
              }),
            )
          : h('p', { class: 'muted' }, t('inbox.delegate.none')),
      );
    } catch (err) {
      messages.error(err);
    }
  }
  async function create() {
    untilField.setError(null);
    if (!until.value) {
      untilField.setError(t('v.required'));
      until.focus();
      return;
    }
    try {
      const endsAt = new Date(`${until.value}T23:59:59`).toISOString();
      const body = { delegateId: Number(who.value), endsAt, reason: reason.value.trim() || undefined };
      await api('/delegations', { json: body });
      messages.show('success', t('inbox.delegate.created'));
      await load();
    } catch (err) {
      messages.error(err);
    }
  }
  async function end(g) {
    try {
      await api(`/delegations/${encodeURIComponent(g.id)}`, { method: 'DELETE' });
      messages.show('success', t('inbox.delegate.revoked'));
      await load();
    } catch (err) {
      messages.error(err);
    }
  }
  load();
  return section(
    t('inbox.delegate.title'),
    h('p', { class: 'hint' }, t('inbox.delegate.hint')),
    list,
    h(
      'div',
      { class: 'filters' },
      field(t('inbox.delegate.who'), who).el,
      untilField.el,
      field(t('inbox.delegate.reason'), reason).el,
      add,
    ),
  );
}
