// Log in with email and password; the server sets the session cookie.

import {post} from '../api.js';
import {h, mount, field} from '../dom.js';
import {t, errorText, setLocale, locale} from '../i18n.js';

export function render(root, {onLogin}) {
  const email = h('input', {type: 'email', name: 'email', autocomplete: 'username', required: true});
  const password = h('input', {type: 'password', name: 'password', autocomplete: 'current-password', required: true});
  const error = h('p', {class: 'error', role: 'alert', id: 'login-error'});
  const submit = h('button', {type: 'submit', class: 'primary'}, t('login.submit'));
  const form = h('form', {class: 'card login', 'aria-labelledby': 'login-title', novalidate: true},
    h('h1', {id: 'login-title'}, t('login.title')),
    h('p', {class: 'muted'}, t('login.intro')),
    field(t('login.email'), email), field(t('login.password'), password), error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      onLogin(await post('/api/v1/session', {email: email.value, password: password.value}));
    } catch (err) {
      error.textContent = errorText(err);
      submit.disabled = false;
      submit.textContent = t('login.submit');
      password.select();
    }
  });
  const lang = h('button', {class: 'link', id: 'lang', type: 'button', onclick: () => {
    setLocale(locale() === 'zh-CN' ? 'en' : 'zh-CN', true);
    render(root, {onLogin});
  }}, t('lang.switch'));
  mount(root, h('main', {class: 'center', id: 'main'}, h('p', {class: 'brand'}, t('app.name')), form, lang));
  document.title = `${t('login.title')} · Beacon`;
  email.focus();
}
