import { h, fill, uid } from '../dom.js';
import { t, tOr } from '../i18n.js';
import { api, itemsOf } from '../api.js';
import { currentUser, departmentsWith, isPlatformAdmin } from '../session.js';
import {
  pageHeader,
  section,
  messageArea,
  table,
  field,
  errorSummary,
  busy,
  button,
  confirmDialog,
  statusBadge,
} from '../ui.js';
import { describeError } from '../errors.js';

export const title = () => t('staff.title');

const ROLES = ['department-admin', 'filler', 'reviewer', 'sealing-officer', 'handler', 'audit-admin', 'platform-admin'];

/** The roles and departments this admin may hand out. */
function grantable(allDepartments) {
  const platform = isPlatformAdmin();
  const depts = platform ? allDepartments.map((d) => d.code) : departmentsWith(['department-admin']) || [];
  return {
    roles: ROLES.filter((r) => platform || r !== 'platform-admin'),
    departments: depts,
    platformWide: platform,
    names: Object.fromEntries(allDepartments.map((d) => [d.code, d.name])),
  };
}

function roleRow(options, initial = {}) {
  const label = (code) => (options.names[code] ? `${options.names[code]} (${code})` : code);
  const role = h(
    'select',
    null,
    options.roles.map((r) => h('option', { value: r, selected: r === initial.role }, tOr(`role.${r}`, r))),
  );
  const dept = h(
    'select',
    null,
    options.platformWide ? h('option', { value: '' }, t('staff.platformWide')) : null,
    options.departments.map((d) => h('option', { value: d, selected: d === initial.department }, label(d))),
  );
  const fRole = field(t('staff.role'), role);
  const fDept = field(t('staff.department'), dept);
  return {
    el: h('div', { class: 'form-grid dense role-row' }, fRole.el, fDept.el),
    read: () => ({ role: role.value, department: dept.value || null }),
    fRole,
    fDept,
  };
}

export async function render(main) {
  const messages = messageArea();
  let departments = [];
  try {
    departments = itemsOf(await api('/departments'));
  } catch {
    departments = [];
  }
  const options = grantable(departments);
  const deptName = (code) => departments.find((d) => d.code === code)?.name || code;
  const list = h('div');

  async function load() {
    const users = itemsOf(await api('/users'));
    fill(
      list,
      table(
        [
          { label: t('staff.col.username'), cell: (u) => h('span', { class: 'mono' }, u.username) },
          { label: t('staff.col.name'), cell: (u) => u.displayName },
          {
            label: t('staff.col.roles'),
            cell: (u) =>
              h(
                'ul',
                { class: 'chips' },
                u.roles.map((r) =>
                  h(
                    'li',
                    { class: 'role-chip' },
                    tOr(`role.${r.role}`, r.role),
                    r.department ? ` · ${deptName(r.department)}` : ` · ${t('staff.platformWide')}`,
                    button('×', (e) => withdraw(u, r, e.currentTarget), {
                      kind: 'chip-x',
                      'aria-label': t('staff.withdrawLabel', { role: tOr(`role.${r.role}`, r.role), user: u.username }),
                      title: t('staff.withdraw'),
                    }),
                  ),
                ),
              ),
          },
          { label: t('staff.col.status'), cell: (u) => statusBadge('user', u.active ? 'active' : 'inactive') },
          {
            label: t('inbox.col.actions'),
            cell: (u) => {
              const grant = button(t('staff.grant'), () => grantDialog(u), {
                kind: 'small btn-secondary',
                'aria-label': t('staff.grantLabel', { user: u.username }),
              });
              const self = currentUser() && currentUser().id === u.id;
              const toggle = self
                ? null
                : button(
                    u.active ? t('staff.deactivate') : t('staff.activate'),
                    (e) => setActive(u, !u.active, e.currentTarget),
                    {
                      kind: u.active ? 'small btn-danger' : 'small btn-secondary',
                      'aria-label': t(u.active ? 'staff.deactivateLabel' : 'staff.activateLabel', { user: u.username }),
                    },
                  );
              return h('span', { class: 'actions' }, grant, toggle);
            },
          },
        ],
        users,
        { caption: t('staff.title'), empty: t('staff.empty'), rowClass: (u) => (u.active ? undefined : 'row-muted') },
      ),
    );
  }

  async function withdraw(user, assignment, btn) {
    const ok = await confirmDialog({
      title: t('staff.withdrawTitle'),
      body: t('staff.withdrawBody', { role: tOr(`role.${assignment.role}`, assignment.role), user: user.displayName }),
      confirmLabel: t('staff.withdraw'),
      danger: true,
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        await api(`/users/${user.id}/roles/${assignment.id}`, { method: 'DELETE' });
        messages.show('success', t('staff.withdrawn'));
        await load();
      } catch (err) {
        messages.error(err);
      }
    });
  }

  async function setActive(user, active, btn) {
    if (!active) {
      const ok = await confirmDialog({
        title: t('staff.deactivateTitle', { user: user.displayName }),
        body: t('staff.deactivateBody'),
        confirmLabel: t('staff.deactivate'),
        danger: true,
      });
      if (!ok) return;
    }
    await busy(btn, async () => {
      try {
        await api(`/users/${user.id}`, { method: 'PUT', json: { active } });
        messages.show('success', t(active ? 'staff.activated' : 'staff.deactivated', { user: user.username }));
        await load();
      } catch (err) {
        messages.error(err);
      }
    });
  }

  function grantDialog(user) {
    const row = roleRow(options);
    const dlgMessages = messageArea();
    const titleId = uid('dlg');
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, t('staff.grantTitle', { user: user.displayName })),
        dlgMessages.el,
        row.el,
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'btn btn-secondary' }, t('common.cancel')),
          h('button', { type: 'submit', value: 'ok', class: 'btn btn-primary' }, t('staff.grant')),
        ),
      ),
    );
    dlg.querySelector('form').addEventListener('submit', async (e) => {
      if (!e.submitter || e.submitter.value !== 'ok') return;
      e.preventDefault();
      try {
        await api(`/users/${user.id}/roles`, { json: row.read() });
        dlg.close();
        messages.show('success', t('staff.granted'));
        await load();
      } catch (err) {
        dlgMessages.error(err);
      }
    });
    dlg.addEventListener('close', () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();
  }

  // New staff member
  const summary = h('div');
  const username = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'none' });
  const displayName = h('input', { type: 'text', autocomplete: 'off' });
  const password = h('input', { type: 'password', autocomplete: 'new-password' });
  const fUser = field(t('staff.col.username'), username, { required: true, hint: t('staff.usernameHint') });
  const fName = field(t('staff.col.name'), displayName, { required: true });
  const fPass = field(t('staff.password'), password, { required: true, hint: t('staff.passwordHint') });
  const roleRows = [roleRow(options, { role: 'filler', department: options.departments[0] })];
  const rolesBox = h(
    'div',
    { class: 'roles-box' },
    roleRows.map((r) => r.el),
  );
  const addRole = button(t('staff.addRole'), () => {
    const r = roleRow(options, { department: options.departments[0] });
    roleRows.push(r);
    rolesBox.append(r.el);
    r.fRole.control.focus();
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('staff.create'));
  const fieldsByPath = { username: fUser, displayName: fName, password: fPass };
  const form = h(
    'form',
    {
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        for (const f of [fUser, fName, fPass]) f.setError(null);
        const problems = [];
        if (!/^[a-z0-9][a-z0-9._-]{1,63}$/i.test(username.value.trim()))
          problems.push({ f: fUser, message: t('staff.usernameInvalid') });
        if (!displayName.value.trim()) problems.push({ f: fName, message: t('v.required') });
        if (password.value.length < 10) problems.push({ f: fPass, message: t('v.minLength', { min: 10 }) });
        for (const p of problems) p.f.setError(p.message);
        errorSummary(
          summary,
          problems.map((p) => ({
            id: p.f.control.id,
            label: p.f.el.querySelector('label').firstChild.textContent,
            message: p.message,
          })),
        );
        if (problems.length) return;
        await busy(submit, async () => {
          try {
            const created = await api('/users', {
              json: {
                username: username.value.trim(),
                displayName: displayName.value.trim(),
                password: password.value,
                roles: roleRows.map((r) => r.read()),
              },
            });
            form.reset();
            errorSummary(summary, []);
            messages.show('success', t('staff.created', { user: created.username }));
            await load();
          } catch (err) {
            const d = describeError(err);
            const items = d.fields.map((f) => {
              const target =
                fieldsByPath[f.field] ||
                (/^roles\.(\d+)/.test(f.field) ? roleRows[Number(/^roles\.(\d+)/.exec(f.field)[1])]?.fRole : null);
              if (target) target.setError(f.message);
              return {
                id: target?.control.id,
                label: target ? target.el.querySelector('label').firstChild.textContent : f.field,
                message: f.message,
              };
            });
            if (items.length) errorSummary(summary, items, d.message);
            else messages.error(err);
          }
        });
      },
    },
    summary,
    h('div', { class: 'form-grid' }, fUser.el, fName.el, fPass.el),
    h('fieldset', { class: 'roles-fieldset' }, h('legend', null, t('staff.roles')), rolesBox, addRole),
    h('div', { class: 'form-actions' }, submit),
  );

  main.append(pageHeader(t('staff.title')), messages.el, section(t('staff.list'), list), section(t('staff.new'), form));
  await load();
}
