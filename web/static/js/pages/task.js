import { h, uid } from '../dom.js';
import { t, tOr, formatDateTime } from '../i18n.js';
import { api } from '../api.js';
import { pageHeader, section, messageArea, facts, statusBadge, button, busy } from '../ui.js';
import { faceDataView, historyView, loadTypeFields, applicationFacts } from '../face-view.js';
import { decisionPanel } from '../decision.js';
import { facePreview } from '../preview.js';

export const title = () => t('task.title');

/** GET /tasks/:id → { task, application, faceData, history }, whether nested or flat. */
export async function loadTask(id) {
  const body = await api(`/tasks/${encodeURIComponent(id)}`);
  const task = body.task ?? body;
  const application = body.application ?? {};
  return {
    task,
    application,
    faceData: body.faceData ?? application.faceData ?? {},
    history: body.history ?? application.history ?? [],
  };
}

/** The date to look at the task again (PUT /tasks/:id/follow-up): set, change or clear. */
function followUpControl(task, messages) {
  const id = uid('follow');
  const toDate = (iso) => (iso ? new Date(iso).toLocaleDateString('sv-SE') : '');
  const input = h('input', { type: 'date', id, value: toDate(task.followUpAt) });
  const save = button(
    t('task.followUp.save'),
    () =>
      busy(save, async () => {
        try {
          const followUpAt = input.value ? new Date(`${input.value}T09:00:00`).toISOString() : null;
          await api(`/tasks/${encodeURIComponent(task.id)}/follow-up`, { method: 'PUT', json: { followUpAt } });
          messages.show('success', t(followUpAt ? 'task.followUp.saved' : 'task.followUp.cleared'));
        } catch (err) {
          messages.error(err);
        }
      }),
    { kind: 'small btn-secondary' },
  );
  return h('div', { class: 'field' }, h('label', { for: id }, t('task.followUp.label')), input, ' ', save);
}

export async function render(main, { params, query, navigate }) {
  const messages = messageArea();
  const { task, application, faceData, history } = await loadTask(params.id);
  const typeCode = application.typeCode || task.typeCode;
  const version = application.typeVersion;
  const { type, fields } = await loadTypeFields(typeCode, version, messages);
  const typeName = type?.name || type?.definition?.name || typeCode;

  if (query.get('done')) messages.show('success', t(`task.done.${query.get('done')}`));

  const taskFacts = facts([
    [t('task.step'), task.stepName || task.stepKey],
    [t('task.role'), tOr(`role.${task.role}`, task.role)],
    [t('task.department'), task.department],
    [t('task.status'), statusBadge('task', task.status || 'open')],
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
      t('task.heading', { step: task.stepName || '', type: typeName }),
      h('a', { href: '/inbox', class: 'btn btn-secondary' }, t('task.backToInbox')),
    ),
    messages.el,
    h(
      'div',
      { class: 'two-col' },
      h(
        'div',
        { class: 'col-main' },
        section(t('task.application'), applicationFacts({ ...application, typeCode }, type)),
        section(t('task.faceData'), faceDataView(fields, faceData)),
        section(t('preview.title'), facePreview(typeCode, version, faceData)),
      ),
      h(
        'div',
        { class: 'col-side' },
        section(
          t('task.thisTask'),
          taskFacts,
          task.status === 'open' ? followUpControl(task, messages) : null,
          decisionPanel(task, {
            onDone: (d) => navigate(`/tasks/${encodeURIComponent(params.id)}?done=${d}`, { replace: true }),
          }),
        ),
        section(t('task.history'), historyView(history)),
      ),
    ),
  );
}
