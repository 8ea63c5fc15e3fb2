import { h } from '../dom.js';
import { t } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { pageHeader, section, messageArea, facts, statusBadge } from '../ui.js';
import { faceDataView, historyView, loadTypeFields, applicationFacts } from '../face-view.js';
import { decisionPanel } from '../decision.js';
import { facePreview } from '../preview.js';
import { loadTask } from './task.js';

export const title = () => t('seal.title');

/**
 * The online-sealing page (/seal/:applicationId): the URL a business system is given in
 * online-sealing mode. It shows the application and the sealing officer's open task for it.
 */
async function findSealingTask(app) {
  const step = app.currentStep;
  const direct = step && typeof step === 'object' ? (step.taskId ?? step.task?.id) : undefined;
  if (direct !== undefined && direct !== null) return direct;
  const lists = await Promise.all(
    ['mine', 'queue'].map((view) => api('/tasks', { query: { view, status: 'open' } }).catch(() => ({ items: [] }))),
  );
  const found = lists.flatMap(itemsOf).find((x) => x.applicationId === app.id);
  return found ? found.id : undefined;
}

/** Sealing runs in the background (render, sign, store): look again until the number is there. */
function waitForCertificate(main, id, done, deadline = Date.now() + 120_000) {
  setTimeout(async () => {
    if (!main.isConnected || Date.now() > deadline) return;
    try {
      const app = await api(`/applications/${encodeURIComponent(id)}`);
      if ((app.status === 'issued' && app.certificateNumber) || !['sealing', 'issued'].includes(app.status)) {
        if (main.isConnected) done();
        return;
      }
    } catch {
      /* try again */
    }
    waitForCertificate(main, id, done, deadline);
  }, 1500);
}

export async function render(main, { params, query, navigate }) {
  const messages = messageArea();
  const app = await api(`/applications/${encodeURIComponent(params.applicationId)}`);
  const { type, fields } = await loadTypeFields(app.typeCode, app.typeVersion, messages);
  const taskId = await findSealingTask(app);
  const detail = taskId !== undefined ? await loadTask(taskId) : null;
  const faceData = detail?.faceData ?? app.faceData ?? {};
  const history = detail?.history?.length ? detail.history : (app.history ?? []);

  if (query.get('done') === 'approve') messages.show('success', t('seal.sealed'));
  else if (query.get('done')) messages.show('success', t(`task.done.${query.get('done')}`));

  let side;
  if (detail && detail.task.role === 'sealing-officer' && detail.task.status === 'open') {
    side = section(
      t('seal.confirmTitle'),
      h('p', null, t('seal.confirmText')),
      decisionPanel(detail.task, {
        sealing: true,
        onDone: (d) => navigate(`/seal/${encodeURIComponent(params.applicationId)}?done=${d}`, { replace: true }),
      }),
    );
  } else if (app.status === 'issued' && app.certificateNumber) {
    side = section(
      t('seal.issued'),
      facts([
        [
          t('app.certificate'),
          h(
            'a',
            { href: `/certificates/${encodeURIComponent(app.certificateNumber)}`, class: 'mono' },
            app.certificateNumber,
          ),
        ],
      ]),
      h('p', null, h('a', { href: `/verify/${encodeURIComponent(app.certificateNumber)}` }, t('seal.verifyLink'))),
    );
  } else if (app.status === 'sealing' || app.status === 'issued') {
    side = section(t('seal.inProgressTitle'), h('p', { role: 'status' }, t('seal.inProgress')));
    waitForCertificate(main, app.id, () => navigate(location.pathname + location.search, { replace: true }));
  } else {
    side = section(
      t('seal.noTask'),
      h('p', null, t('seal.noTaskText')),
      h('p', null, t('app.status'), '：', statusBadge('application', app.status || 'unknown')),
    );
  }

  main.append(
    pageHeader(t('seal.heading', { type: type?.name || app.typeCode })),
    messages.el,
    h(
      'div',
      { class: 'two-col' },
      h(
        'div',
        { class: 'col-main' },
        section(t('task.application'), applicationFacts(app, type)),
        section(t('task.faceData'), faceDataView(fields, faceData)),
        section(t('preview.title'), facePreview(app.typeCode, app.typeVersion, faceData)),
      ),
      h('div', { class: 'col-side' }, side, section(t('task.history'), historyView(history))),
    ),
  );
}
