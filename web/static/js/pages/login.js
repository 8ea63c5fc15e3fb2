import { h } from '../dom.js';
import { t } from '../i18n.js';
import { signIn, currentUser } from '../session.js';
import { field, messageArea, busy } from '../ui.js';

export const title = () => t('login.title');

/** Only local paths: a link must not send a freshly signed-in user to another site. */
function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export async function render(main, { query, navigate }) {
  if (currentUser()) return navigate(safeNext(query.get('next')), { replace: true });
  const messages = messageArea();
  const username = h('input', {
    type: 'text',
    name: 'username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
  });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const fUser = field(t('login.username'), username, { required: true });
  const fPass = field(t('login.password'), password, { required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('login.submit'));

  const form = h(
    'form',
    {
      class: 'login-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        messages.clear();
        fUser.setError(null);
        fPass.setError(null);
        let bad = false;
        if (!username.value.trim()) {
          fUser.setError(t('v.required'));
          bad = true;
        }
        if (!password.value) {
          fPass.setError(t('v.required'));
          bad = true;
        }
        if (bad) {
          (username.value.trim() ? password : username).focus();
          return;
        }
        await busy(submit, async () => {
          try {
            await signIn(username.value.trim(), password.value);
            navigate(safeNext(query.get('next')), { replace: true });
          } catch (err) {
            messages.error(err, 'login');
            password.value = '';
            password.focus();
          }
        });
      },
    },
    fUser.el,
    fPass.el,
    submit,
  );

  if (query.get('expired')) messages.show('info', t('login.expired'));
  else if (query.get('signedOut')) messages.show('info', t('login.signedOut'));

  main.append(
    h(
      'div',
      { class: 'login-page' },
      h(
        'div',
        { class: 'login-card card' },
        h('div', { class: 'login-emblem', 'aria-hidden': 'true' }, '证'),
        h('h1', { tabindex: '-1' }, t('login.heading')),
        h('p', { class: 'muted' }, t('login.subtitle')),
        messages.el,
        form,
        h('p', { class: 'login-verify' }, h('a', { href: '/verify' }, t('login.verifyLink'))),
      ),
    ),
  );
  username.focus();
}
