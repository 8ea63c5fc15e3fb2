/**
 * The shell: header (who is signed in, roles, language, sign-out), navigation by role and a
 * router that draws one page module at a time into <main>. Pages are ES modules loaded on
 * first use; each exports render(main, ctx) and a title(ctx).
 */
import { h, fill } from './dom.js';
import { t, lang, setLang, pick } from './i18n.js';
import { getToken } from './api.js';
import { loadMe, currentUser, signOut, hasAnyRole, isPlatformAdmin } from './session.js';
import { messageArea } from './ui.js';

const REVIEWING = ['reviewer', 'sealing-officer', 'department-admin'];
const READING_CERTS = ['handler', 'department-admin', 'reviewer', 'sealing-officer'];

/** path pattern → page module; public pages need no sign-in; roles decide the navigation. */
const ROUTES = [
  { path: '/', page: 'home' },
  { path: '/login', page: 'login', public: true, bare: true },
  { path: '/inbox', page: 'inbox' },
  { path: '/tasks/:id', page: 'task' },
  { path: '/requests/:id', page: 'holder-request' },
  { path: '/counter', page: 'counter' },
  { path: '/applications', page: 'applications' },
  { path: '/applications/new', page: 'application-new' },
  { path: '/applications/:id', page: 'application' },
  { path: '/seal/:applicationId', page: 'seal' },
  { path: '/admin/types', page: 'types' },
  { path: '/admin/types/new', page: 'type-edit' },
  { path: '/admin/types/:code', page: 'type' },
  { path: '/admin/types/:code/edit', page: 'type-edit' },
  { path: '/admin/staff', page: 'staff' },
  { path: '/admin/seals', page: 'seals' },
  { path: '/admin/imports', page: 'imports' },
  { path: '/certificates', page: 'certificates' },
  { path: '/certificates/:number', page: 'certificate' },
  { path: '/audit', page: 'audit' },
  { path: '/sharing', page: 'sharing' },
  { path: '/verify', page: 'verify', public: true },
  { path: '/verify/:number', page: 'verify', public: true },
];

/** The navigation, in order; `show` decides from the signed-in user's roles. */
export const NAV = [
  { href: '/inbox', key: 'nav.inbox', show: () => hasAnyRole([...REVIEWING, 'handler']) },
  { href: '/counter', key: 'nav.counter', show: () => hasAnyRole(['handler']) },
  { href: '/applications/new', key: 'nav.newApplication', show: () => hasAnyRole(['filler']) },
  { href: '/applications', key: 'nav.myApplications', show: () => hasAnyRole(['filler']) },
  { href: '/certificates', key: 'nav.certificates', show: () => hasAnyRole(READING_CERTS) },
  { href: '/sharing', key: 'nav.sharing', show: () => hasAnyRole(['handler']) },
  { href: '/admin/types', key: 'nav.types', show: () => hasAnyRole(['department-admin']) },
  { href: '/admin/staff', key: 'nav.staff', show: () => hasAnyRole(['department-admin']) || isPlatformAdmin() },
  { href: '/admin/seals', key: 'nav.seals', show: () => hasAnyRole(['department-admin']) },
  { href: '/admin/imports', key: 'nav.imports', show: () => hasAnyRole(['department-admin']) },
  { href: '/audit', key: 'nav.audit', show: () => hasAnyRole(['audit-admin']) },
  { href: '/verify', key: 'nav.verify', show: () => true },
];

function match(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').filter(Boolean);
  for (const r of ROUTES) {
    const pattern = r.path.split('/').filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(':')) {
        try {
          params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else if (pattern[i] !== parts[i]) ok = false;
      if (!ok) break;
    }
    if (ok) return { route: r, params };
  }
  return null;
}

export function navigate(to, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  return render({ focus: true });
}

function renderHeader() {
  const me = currentUser();
  const switchTo = lang() === 'zh-CN' ? 'en' : 'zh-CN';
  const langButton = h(
    'button',
    {
      type: 'button',
      class: 'btn-link lang-switch',
      lang: switchTo,
      onclick: () => setLang(switchTo),
      'aria-label': t('header.switchLanguage'),
    },
    switchTo === 'en' ? 'English' : '中文',
  );
  const user = me
    ? h(
        'div',
        { class: 'user' },
        h('span', { class: 'user-name' }, me.displayName || me.username),
        h(
          'span',
          { class: 'user-roles' },
          (me.roles || []).map((r) =>
            h('span', { class: 'role-chip' }, pick(r.label) || r.role, ` · ${r.department ?? t('staff.platformWide')}`),
          ),
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'btn-link',
            onclick: async () => {
              await signOut().catch(() => {});
              navigate('/login?signedOut=1');
            },
          },
          t('header.signOut'),
        ),
      )
    : null;
  fill(
    document.getElementById('topbar'),
    h(
      'div',
      { class: 'topbar-inner' },
      h(
        'a',
        { href: me ? '/' : '/verify', class: 'brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '证'),
        h('span', null, t('app.name')),
      ),
      h(
        'div',
        { class: 'topbar-right' },
        user,
        langButton,
        !me && location.pathname !== '/login'
          ? h('a', { href: '/login', class: 'btn-link' }, t('header.signIn'))
          : null,
      ),
    ),
  );
  const nav = document.getElementById('nav');
  const items = me ? NAV.filter((n) => n.show()) : NAV.filter((n) => n.href === '/verify');
  const here = location.pathname;
  // The longest matching prefix is the current section: /applications/new is not "my applications".
  const current = items
    .filter((n) => here === n.href || here.startsWith(`${n.href}/`))
    .sort((a, b) => b.href.length - a.href.length)[0];
  fill(
    nav,
    h(
      'div',
      { class: 'nav-inner' },
      h(
        'ul',
        null,
        items.map((n) =>
          h('li', null, h('a', { href: n.href, 'aria-current': n === current ? 'page' : undefined }, t(n.key))),
        ),
      ),
    ),
  );
  nav.setAttribute('aria-label', t('nav.label'));
  document.getElementById('footer-text').textContent = t('app.footer');
  document.querySelector('.skip-link').textContent = t('app.skip');
}

let renderSeq = 0;
let rendered = '';

/** Draws the page for location; focus moves to its heading after a navigation. */
export async function render({ focus = false } = {}) {
  const seq = ++renderSeq;
  rendered = location.pathname + location.search;
  const found = match(location.pathname);
  const query = new URLSearchParams(location.search);
  if (found && !found.route.public && !getToken()) {
    const next = location.pathname + location.search;
    return navigate(`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
  }
  try {
    if (getToken()) await loadMe();
  } catch {
    /* an expired token: the session-ended handler below redirects */
  }
  if (seq !== renderSeq) return;
  renderHeader();
  document.body.classList.toggle('bare', !!found?.route.bare);
  // A fresh container per render: a slow page that finishes late writes into a detached node.
  const old = document.getElementById('main');
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  old.replaceWith(main);
  if (!found) {
    document.title = `${t('page.notFound')} - ${t('app.name')}`;
    fill(
      main,
      h('h1', { tabindex: '-1' }, t('page.notFound')),
      h('p', null, h('a', { href: '/' }, t('page.backHome'))),
    );
    return;
  }
  const ctx = { params: found.params, query, navigate, refresh: () => render() };
  main.setAttribute('aria-busy', 'true');
  try {
    const mod = await import(`./pages/${found.route.page}.js`);
    if (seq !== renderSeq) return;
    document.title = `${mod.title ? mod.title(ctx) : t('app.name')} - ${t('app.name')}`;
    await mod.render(main, ctx);
  } catch (err) {
    if (seq !== renderSeq) return;
    const m = messageArea();
    fill(main, h('h1', { tabindex: '-1' }, t('page.error')), m.el);
    m.error(err);
  } finally {
    main.removeAttribute('aria-busy');
  }
  if (focus && seq === renderSeq) {
    const h1 = main.querySelector('h1');
    (h1 || main).focus({ preventScroll: false });
  }
}

// Same-origin links are handled here, without reloading the page.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  if (!href || href.startsWith('#') || href.startsWith('blob:')) return;
  const u = new URL(a.href, location.href);
  if (u.origin !== location.origin || u.pathname.startsWith('/api/') || u.pathname.startsWith('/static/')) return;
  e.preventDefault();
  navigate(u.pathname + u.search + u.hash);
});

// An in-page link (#…) changes only the hash: nothing to draw again.
window.addEventListener('popstate', () => {
  if (location.pathname + location.search !== rendered) render({ focus: true });
});

// "Skip to content" moves focus to the page's heading (the <main> is redrawn on each page).
document.addEventListener('click', (e) => {
  const skip = e.target.closest && e.target.closest('.skip-link');
  if (!skip) return;
  e.preventDefault();
  const main = document.getElementById('main');
  (main.querySelector('h1') || main).focus();
});
window.addEventListener('certflow:language', () => render());
window.addEventListener('certflow:session-ended', () => {
  const found = match(location.pathname);
  if (found && found.route.public) return render();
  const next = location.pathname + location.search;
  navigate(`/login?expired=1&next=${encodeURIComponent(next)}`, { replace: true });
});

render();
