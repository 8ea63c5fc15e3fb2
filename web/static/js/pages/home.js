import { h } from '../dom.js';
import { t } from '../i18n.js';
import { hasAnyRole, isPlatformAdmin, hasRole } from '../session.js';

export const title = () => t('app.name');

/** Each role lands where its work is. */
export async function render(main, { navigate }) {
  if (hasAnyRole(['reviewer', 'sealing-officer'])) return navigate('/inbox', { replace: true });
  if (hasRole('filler')) return navigate('/applications', { replace: true });
  if (hasRole('department-admin')) return navigate('/admin/types', { replace: true });
  if (hasRole('handler')) return navigate('/certificates', { replace: true });
  if (isPlatformAdmin()) return navigate('/admin/staff', { replace: true });
  if (hasRole('audit-admin')) return navigate('/audit', { replace: true });
  main.append(
    h('h1', { tabindex: '-1' }, t('home.welcome')),
    h('p', null, t('home.noPages')),
    h('p', null, h('a', { href: '/verify' }, t('nav.verify'))),
  );
}
