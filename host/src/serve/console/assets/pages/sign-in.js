// Sign-in: a token the API takes is exchanged for a session cookie
// (POST /api/v1/session). The token is sent once and never kept by the page.

import { api } from '../api.js';
import { alertBox, field, h, replace } from '../dom.js';
import { t } from '../i18n.js';

export function render({ onSignedIn }) {
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const slot = h('div', { class: 'slot' });
  const submit = h('button', { type: 'submit', class: 'primary', text: t('signin.submit') });
  const form = h('form', {
    class: 'signin-form',
    onsubmit: async (e) => {
      e.preventDefault();
      replace(slot);
      submit.disabled = true;
      try {
        const s = await api('/api/v1/session', { method: 'POST', body: { token: token.value }, quiet401: true });
        token.value = '';
        onSignedIn(s);
      } catch (error) {
        replace(slot, alertBox(error));
        token.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  field(t('signin.token'), token, t('signin.token.hint')),
  submit,
  slot);
  const root = h('div', { class: 'page signin', 'data-page': 'sign-in' },
    h('div', { class: 'signin-card' },
      h('h1', { tabindex: '-1', text: t('signin.title') }),
      h('p', { class: 'meta', text: t('signin.intro') }),
      form));
  queueMicrotask(() => token.focus());
  return root;
}
