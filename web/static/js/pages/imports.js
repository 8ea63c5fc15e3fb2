/**
 * Bulk import of existing certificates (docs/import.md), for department admins: pick the type,
 * upload a CSV or XLSX, watch the progress bar, download the row-level report.
 */
import { h, fill } from '../dom.js';
import { t, formatDateTime } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { departmentsWith } from '../session.js';
import { pageHeader, section, table, field, button, messageArea, statusBadge } from '../ui.js';

export const title = () => t('imports.title');

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function saveBlob(blob, filename) {
  const a = h('a', { href: URL.createObjectURL(blob), download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

/** The progress bar with its figures in words, so it reads the same to a screen reader. */
function progressOf(x) {
  const p = x.progress;
  const percent = p.percent ?? 0;
  const words = p.total === null ? t('imports.counting') : t('imports.rows', { done: p.done, total: p.total });
  const rate = p.rowsPerSecond !== null ? t('imports.rate', { rate: p.rowsPerSecond }) : '';
  const eta = p.etaSeconds ? t('imports.eta', { seconds: p.etaSeconds }) : '';
  return h(
    'div',
    { class: 'import-progress' },
    h('progress', { max: '100', value: String(percent), 'aria-label': t('imports.progressOf', { file: x.fileName }) }),
    h('span', { class: 'import-percent' }, `${percent} %`),
    h('span', { class: 'muted' }, [words, rate, eta].filter(Boolean).join(' · ')),
  );
}

export async function render(main, { refresh }) {
  const msg = messageArea();
  const depts = departmentsWith(['department-admin']);
  const types = itemsOf(await api('/certificate-types', { query: { status: 'published' } })).filter(
    (x) => depts === null || depts.includes(x.department),
  );
  const typeSelect = h(
    'select',
    { required: true },
    types.map((x) => h('option', { value: x.code }, `${x.name} (${x.code})`)),
  );
  const fileInput = h('input', { type: 'file', accept: '.csv,.xlsx,text/csv,' + XLSX, required: true });

  async function downloadTemplate() {
    msg.clear();
    try {
      const blob = await api('/certificate-imports/template', { query: { typeCode: typeSelect.value } });
      saveBlob(blob, `${typeSelect.value}-import.csv`);
    } catch (err) {
      msg.error(err, 'imports');
    }
  }

  async function upload(ev) {
    ev.preventDefault();
    msg.clear();
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      msg.show('error', t('imports.chooseFile'));
      return;
    }
    const isXlsx = file.name.toLowerCase().endsWith('.xlsx');
    try {
      await api('/certificate-imports', {
        method: 'POST',
        query: { typeCode: typeSelect.value, fileName: file.name },
        body: file,
        type: isXlsx ? XLSX : 'text/csv',
      });
      msg.show('success', t('imports.started', { file: file.name }));
      await drawList();
    } catch (err) {
      msg.error(err, 'imports');
    }
  }

  const listBox = h('div', { class: 'import-list' });
  let timer;

  async function report(x) {
    try {
      saveBlob(await api(`/certificate-imports/${x.id}/report`), `import-${x.fileName}-report.csv`);
    } catch (err) {
      msg.error(err, 'imports');
    }
  }

  async function drawList() {
    clearTimeout(timer);
    if (!listBox.isConnected && main.isConnected === false) return;
    const items = itemsOf(await api('/certificate-imports'));
    fill(
      listBox,
      table(
        [
          { label: t('imports.col.file'), cell: (x) => x.fileName },
          { label: t('imports.col.type'), cell: (x) => x.typeCode },
          { label: t('imports.col.status'), cell: (x) => statusBadge('import', x.status) },
          { label: t('imports.col.progress'), cell: progressOf },
          { label: t('imports.col.imported'), cell: (x) => String(x.imported) },
          { label: t('imports.col.rejected'), cell: (x) => String(x.rejected) },
          { label: t('imports.col.created'), cell: (x) => formatDateTime(x.createdAt) },
          {
            label: t('imports.col.report'),
            cell: (x) =>
              x.progress.done > 0
                ? button(t('imports.downloadReport'), () => report(x), {
                    'aria-label': t('imports.reportOf', { file: x.fileName }),
                  })
                : '—',
          },
        ],
        items,
        { caption: t('imports.list'), empty: t('imports.empty') },
      ),
    );
    // Poll while an import runs and this page is still shown.
    if (items.some((x) => x.status === 'pending' || x.status === 'running')) {
      timer = setTimeout(() => {
        if (main.isConnected) drawList().catch((err) => msg.error(err, 'imports'));
      }, 1000);
    }
  }

  main.append(
    pageHeader(
      t('imports.title'),
      button(t('common.refresh'), () => refresh()),
    ),
    msg.el,
    section(
      t('imports.upload'),
      h('p', { class: 'muted' }, t('imports.help')),
      h(
        'form',
        { class: 'form', onsubmit: upload },
        field(t('imports.type'), typeSelect, { required: true }).el,
        field(t('imports.file'), fileInput, { required: true, hint: t('imports.fileHint') }).el,
        h(
          'div',
          { class: 'form-actions' },
          button(t('imports.template'), downloadTemplate),
          button(t('imports.start'), null, { kind: 'primary', type: 'submit' }),
        ),
      ),
    ),
    section(t('imports.list'), listBox),
  );
  await drawList();
}
