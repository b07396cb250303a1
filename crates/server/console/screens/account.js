// The logged-in user: who they are, and changing their own password.

import {post} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, errorText} from '../i18n.js';

export function render(main, {session}) {
  const current = h('input', {type: 'password', autocomplete: 'current-password', required: true});
  const next = h('input', {type: 'password', autocomplete: 'new-password', required: true, minlength: 10});
  const again = h('input', {type: 'password', autocomplete: 'new-password', required: true});
  const status = h('p', {role: 'status'});
  const form = h('form', {class: 'card', novalidate: true},
    h('h2', {}, t('account.password')),
    field(t('account.current'), current), field(t('account.new'), next, t('account.hint')),
    field(t('account.confirm'), again), status,
    h('button', {type: 'submit', class: 'primary'}, t('common.save')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    [current, next, again].forEach((c) => fieldError(c, ''));
    status.textContent = '';
    if (next.value !== again.value) return fieldError(again, t('account.mismatch'));
    try {
      await post('/api/v1/session/password', {current: current.value, new: next.value});
      form.reset();
      status.textContent = t('account.changed');
    } catch (err) {
      fieldError(err.code === 'invalid_credentials' ? current : next, errorText(err));
    }
  });
  mount(main, h('h1', {}, t('account.title')),
    h('dl', {class: 'card facts'},
      h('dt', {}, t('account.email')), h('dd', {}, session.user.email),
      h('dt', {}, t('account.role')), h('dd', {}, t('role.' + session.role))),
    form);
}
