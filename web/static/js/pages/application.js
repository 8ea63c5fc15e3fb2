import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { currentUser } from '../session.js';
import { pageHeader, section, messageArea, errorSummary, busy, confirmDialog, button } from '../ui.js';
import { faceDataView, historyView, loadTypeFields, applicationFacts } from '../face-view.js';
import { buildFaceForm } from '../face-form.js';
import { describeError } from '../errors.js';

export const title = () => t('app.title');

function isSubmitter(app) {
  const me = currentUser();
  return !!me && !!app.submitter && app.submitter.type === 'user' && String(app.submitter.id) === String(me.id);
}

/** The last "returned" entry: what the reviewer asked to correct. */
function lastReturn(history = []) {
  return [...history].reverse().find((e) => e.kind === 'returned');
}

export async function render(main, { params, query, navigate }) {
  const messages = messageArea();
  const app = await api(`/applications/${encodeURIComponent(params.id)}`);
  const { type, fields } = await loadTypeFields(app.typeCode, app.typeVersion, messages);
  const mine = isSubmitter(app);
  if (query.get('created')) messages.show('success', t('app.created'));
  if (query.get('amended')) messages.show('success', t('app.amended'));

  const actions = [];
  if (mine && (app.status === 'in-review' || app.status === 'returned')) {
    const withdraw = button(
      t('app.withdraw'),
      () =>
        busy(withdraw, async () => {
          const reason = await confirmDialog({
            title: t('app.withdrawTitle'),
            body: t('app.withdrawBody'),
            confirmLabel: t('app.withdraw'),
            danger: true,
            reason: true,
          });
          if (reason === false) return;
          try {
            await api(`/applications/${encodeURIComponent(app.id)}/withdraw`, { json: { reason } });
            navigate(`/applications/${encodeURIComponent(app.id)}`, { replace: true });
          } catch (err) {
            messages.error(err);
          }
        }),
      { kind: 'danger' },
    );
    actions.push(withdraw);
  }

  let body;
  if (mine && app.status === 'returned') {
    const ret = lastReturn(app.history);
    const summary = h('div');
    const face = buildFaceForm(fields, app.faceData || {});
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('app.resubmit'));
    body = h(
      'div',
      null,
      h(
        'div',
        { class: 'msg msg-warning', role: 'note' },
        h('p', { class: 'msg-text' }, t('app.returnedNotice')),
        ret && ret.comment ? h('blockquote', { class: 'timeline-comment' }, ret.comment) : null,
      ),
      h(
        'form',
        {
          novalidate: true,
          onsubmit: async (e) => {
            e.preventDefault();
            messages.clear();
            const r = face.read();
            const problems = face.showProblems(r.problems);
            errorSummary(summary, problems);
            if (problems.length) return;
            await busy(submit, async () => {
              try {
                await api(`/applications/${encodeURIComponent(app.id)}/amend`, { json: { faceData: r.data } });
                navigate(`/applications/${encodeURIComponent(app.id)}?amended=1`, { replace: true });
              } catch (err) {
                const server = face.showServerErrors(err.errors || []);
                if (server.length) errorSummary(summary, server, describeError(err).message);
                else messages.error(err);
              }
            });
          },
        },
        summary,
        section(t('app.amendTitle'), face.el),
        h('div', { class: 'form-actions' }, submit),
      ),
    );
  } else {
    body = section(t('task.faceData'), faceDataView(fields, app.faceData || {}));
  }

  main.append(
    pageHeader(t('app.heading', { type: type?.name || app.typeCode }), ...actions),
    messages.el,
    h(
      'div',
      { class: 'two-col' },
      h('div', { class: 'col-main' }, section(t('task.application'), applicationFacts(app, type)), body),
      h('div', { class: 'col-side' }, section(t('task.history'), historyView(app.history || []))),
    ),
  );
}
