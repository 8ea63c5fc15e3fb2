/**
 * The holder portal (docs/holders.md): sign in through the identity provider, my certificates,
 * one certificate with its show-code (亮证), grants (用证授权) and requests (holder/requests.js),
 * my reminders and requests, and who used my certificates.
 * Phone first; Chinese first with the same i18n as the staff pages. The session is an HttpOnly
 * cookie, so this code never holds a credential.
 */
import { h, fill, srOnly } from '../dom.js';
import { t, setLang, isZh, formatDate, formatDateTime } from '../i18n.js';
import { requestPages } from './requests.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const topbar = document.getElementById('topbar');

async function api(path, init = {}) {
  const headers = init.json !== undefined ? { 'content-type': 'application/json' } : {};
  const res = await fetch(`/api/v1/holder${path}`, {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
    credentials: 'same-origin',
  });
  if (res.status === 401 || (res.status === 403 && path === '/me'))
    throw Object.assign(new Error('signed out'), { signedOut: true });
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const fields = (body?.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new Error([body?.detail ?? `${res.status}`, fields].filter(Boolean).join(' — '));
  }
  return body;
}

function message(kind, text) {
  return h(
    'div',
    { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status', tabindex: '-1' },
    h('p', { class: 'msg-text' }, text),
  );
}

const statusText = (s) => t(`holder.status.${s}`);

function header(me) {
  fill(
    topbar,
    h('span', { class: 'brand' }, t('holder.title')),
    me
      ? h(
          'span',
          { class: 'who' },
          me.agentName ? t('holder.actingFor', { agent: me.agentName, name: me.name }) : me.name,
        )
      : null,
    h(
      'button',
      {
        class: 'btn btn-small',
        type: 'button',
        onclick: () => {
          setLang(isZh() ? 'en' : 'zh-CN');
          route();
        },
      },
      isZh() ? 'English' : '中文',
    ),
    me ? h('button', { class: 'btn btn-small', type: 'button', onclick: signOut }, t('holder.signOut')) : null,
  );
}

async function navigation(current) {
  const items = [
    ['/holder', 'holder.nav.certificates'],
    ['/holder/reminders', 'holder.nav.reminders'],
    ['/holder/requests', 'holder.nav.requests'],
    ['/holder/grants', 'holder.nav.grants'],
    ['/holder/usage', 'holder.nav.usage'],
  ];
  const unread = await api('/reminders')
    .then((r) => r.unread)
    .catch(() => 0);
  fill(
    nav,
    ...items.map(([href, key]) =>
      h(
        'a',
        { href, 'aria-current': current === href ? 'page' : null, onclick: go },
        t(key),
        href === '/holder/reminders' && unread > 0
          ? [
              h('span', { class: 'count', 'aria-hidden': 'true' }, ` ${unread}`),
              srOnly(`（${t('holder.reminders.unread', { n: unread })}）`),
            ]
          : null,
      ),
    ),
  );
}

function go(event) {
  event.preventDefault();
  history.pushState(null, '', event.currentTarget.getAttribute('href'));
  route();
}

async function signOut() {
  await api('/logout', { method: 'POST' }).catch(() => undefined);
  location.href = '/holder';
}

function signInPage(error) {
  header(null);
  fill(nav);
  document.title = t('holder.title');
  fill(
    main,
    h(
      'section',
      { class: 'signin' },
      h('h1', null, t('holder.title')),
      h('p', null, t('holder.signInHint')),
      error ? message('error', error) : null,
      h(
        'a',
        { class: 'btn btn-primary btn-block', href: `/holder/login?returnTo=${encodeURIComponent(location.pathname)}` },
        t('holder.signIn'),
      ),
    ),
  );
}

async function certificatesPage() {
  const { items } = await api('/certificates');
  document.title = `${t('holder.nav.certificates')} · ${t('holder.title')}`;
  fill(
    main,
    h('h1', null, t('holder.nav.certificates')),
    items.length === 0 ? message('info', t('holder.none')) : null,
    ...items.map((c) =>
      h(
        'a',
        {
          class: ['card', 'cert-card', c.expiringSoon && 'expiring'],
          href: `/holder/certificates/${c.number}`,
          onclick: go,
        },
        h('h2', null, c.type.name),
        h('p', { class: 'cert-meta' }, `${t('holder.number')}: ${c.number}`),
        h('p', { class: 'cert-meta' }, c.issuer.name),
        h(
          'p',
          { class: 'cert-meta' },
          `${statusText(c.status)} · ${c.validUntil ? t('holder.validUntil', { date: formatDate(c.validUntil) }) : t('holder.permanent')}`,
          c.expiringSoon ? h('span', { class: 'badge badge-overdue' }, t('holder.expiringSoon')) : null,
        ),
      ),
    ),
  );
}

async function certificatePage(number) {
  const [cert, { items: departments }] = await Promise.all([api(`/certificates/${number}`), api('/departments')]);
  document.title = `${cert.type.name} · ${t('holder.title')}`;
  const codeArea = h('div', { class: 'show-code', 'aria-live': 'polite' });
  const grantMsg = h('div');
  const tomorrow = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
  const grantForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'grant-h' },
    h('h2', { id: 'grant-h' }, t('holder.grant.title')),
    h(
      'label',
      { class: 'field' },
      h('span', null, t('holder.grant.department')),
      h(
        'select',
        { name: 'department', required: true },
        ...departments.map((d) => h('option', { value: d.code }, d.name)),
      ),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, t('holder.grant.matter')),
      h('input', { name: 'matter', required: true, maxlength: '200' }),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, t('holder.grant.until')),
      h('input', { name: 'validUntil', type: 'date', required: true, value: tomorrow }),
    ),
    grantMsg,
    h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, t('holder.grant.submit')),
  );
  grantForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(grantForm);
    try {
      const g = await api('/grants', {
        method: 'POST',
        json: {
          certificateNumber: cert.number,
          department: f.get('department'),
          matter: f.get('matter'),
          validUntil: f.get('validUntil'),
        },
      });
      fill(grantMsg, message('success', t('holder.grant.done', { until: formatDateTime(g.validUntil) })));
    } catch (err) {
      fill(grantMsg, message('error', err.message));
    }
  });
  const showButton = h('button', { class: 'btn btn-primary btn-block', type: 'button' }, t('holder.show.button'));
  showButton.addEventListener('click', async () => {
    try {
      const shown = await api(`/certificates/${cert.number}/show-codes`, { method: 'POST', json: {} });
      const src = `data:image/svg+xml;base64,${btoa(shown.qrSvg)}`;
      fill(
        codeArea,
        h('img', { src, alt: t('holder.show.qrAlt', { code: shown.code }) }),
        h('p', { class: 'code', 'data-code': shown.code }, shown.code),
        h('p', { class: 'cert-meta' }, t('holder.show.until', { time: formatDateTime(shown.expiresAt) })),
      );
    } catch (err) {
      fill(codeArea, message('error', err.message));
    }
  });
  fill(
    main,
    h('h1', null, cert.type.name),
    h(
      'section',
      { class: 'card' },
      h('p', { class: 'cert-meta' }, `${t('holder.number')}: ${cert.number}`),
      h('p', { class: 'cert-meta' }, `${t('holder.holder')}: ${cert.holder.name}（${cert.holder.id}）`),
      h('p', { class: 'cert-meta' }, cert.issuer.name),
      h(
        'p',
        { class: 'cert-meta' },
        `${statusText(cert.status)} · ${cert.validUntil ? t('holder.validUntil', { date: formatDate(cert.validUntil) }) : t('holder.permanent')}`,
      ),
      h(
        'p',
        null,
        h('a', { class: 'btn', href: `/api/v1/holder/certificates/${cert.number}/pdf` }, t('holder.pdf')),
        ' ',
        h('a', { class: 'btn', href: `/api/v1/holder/certificates/${cert.number}/record` }, t('holder.record')),
        ' ',
        // For a wallet: the certificate as a W3C Verifiable Credential (docs/trust.md).
        h(
          'a',
          {
            class: 'btn',
            href: `/api/v1/holder/certificates/${cert.number}/credential`,
            download: `${cert.number}.credential.json`,
          },
          t('holder.credential'),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'show-h' },
      h('h2', { id: 'show-h' }, t('holder.show.title')),
      h('p', { class: 'cert-meta' }, t('holder.show.hint')),
      showButton,
      codeArea,
    ),
    grantForm,
    cert.status === 'valid' ? pages.requestForm(cert) : null,
  );
}

async function grantsPage() {
  const { items } = await api('/grants');
  document.title = `${t('holder.nav.grants')} · ${t('holder.title')}`;
  const msg = h('div');
  fill(
    main,
    h('h1', null, t('holder.nav.grants')),
    msg,
    items.length === 0 ? message('info', t('holder.grant.none')) : null,
    ...items.map((g) =>
      h(
        'section',
        { class: 'card', dataset: { grant: g.id } },
        h('h2', null, g.matter),
        h('p', { class: 'cert-meta' }, `${t('holder.number')}: ${g.certificateNumber}`),
        h('p', { class: 'cert-meta' }, `${t('holder.grant.department')}: ${g.department}`),
        h(
          'p',
          { class: 'cert-meta' },
          `${t(`holder.grant.status.${g.status}`)} · ${t('holder.grant.untilShort', { time: formatDateTime(g.validUntil) })}`,
        ),
        g.status === 'active'
          ? h(
              'button',
              {
                class: 'btn btn-danger btn-block',
                type: 'button',
                onclick: async () => {
                  try {
                    await api(`/grants/${g.id}`, { method: 'DELETE' });
                    await grantsPage();
                    main.prepend(message('success', t('holder.grant.revoked')));
                  } catch (err) {
                    fill(msg, message('error', err.message));
                  }
                },
              },
              t('holder.grant.revoke'),
            )
          : null,
      ),
    ),
  );
}

async function usagePage() {
  const { items } = await api('/usage');
  document.title = `${t('holder.nav.usage')} · ${t('holder.title')}`;
  fill(
    main,
    h('h1', null, t('holder.nav.usage')),
    h('p', { class: 'cert-meta' }, t('holder.usage.hint')),
    items.length === 0 ? message('info', t('holder.usage.none')) : null,
    h(
      'div',
      { class: 'card' },
      ...items.map((u) =>
        h(
          'div',
          { class: 'usage-item' },
          h(
            'p',
            null,
            h('strong', null, t(`holder.use.${u.use}`) === `holder.use.${u.use}` ? u.use : t(`holder.use.${u.use}`)),
            ' · ',
            formatDateTime(u.at),
          ),
          h(
            'p',
            { class: 'cert-meta' },
            [
              u.who.departmentName,
              u.who.type === 'api-client'
                ? t('holder.usage.system', { name: u.who.name })
                : u.who.type === 'user'
                  ? `${u.who.roles.map((r) => (isZh() ? r.zh : r.en)).join('、')} ${u.who.name}`
                  : u.who.name,
            ]
              .filter(Boolean)
              .join(' · '),
          ),
          h('p', { class: 'cert-meta' }, `${t('holder.number')}: ${u.certificateNumber}`),
          u.reason ? h('p', { class: 'cert-meta' }, `${t('holder.usage.reason')}: ${u.reason}`) : null,
          u.viaGrant ? h('p', { class: 'cert-meta' }, t('holder.usage.viaGrant')) : null,
        ),
      ),
    ),
  );
}

async function route() {
  const path = location.pathname.replace(/\/+$/, '') || '/holder';
  let me;
  try {
    me = await api('/me');
  } catch (err) {
    if (err.signedOut) return signInPage(new URLSearchParams(location.search).get('error'));
    fill(main, message('error', err.message));
    return;
  }
  header(me);
  const m = /^\/holder\/certificates\/([^/]+)$/.exec(path);
  await navigation(m ? '/holder' : path);
  try {
    if (m) await certificatePage(decodeURIComponent(m[1]));
    else if (path === '/holder/reminders') await pages.remindersPage();
    else if (path === '/holder/requests') await pages.requestsPage();
    else if (path === '/holder/grants') await grantsPage();
    else if (path === '/holder/usage') await usagePage();
    else await certificatesPage();
  } catch (err) {
    fill(main, message('error', err.message));
  }
  main.focus();
}

const pages = requestPages({ api, message, go, main, refresh: route });

window.addEventListener('popstate', route);
route();
