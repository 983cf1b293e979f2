// The console's shell: the session (sign-in view on a 401), the header
// (navigation, member search, language toggle, sign-out) and the hash
// router that hands each route to its page module in pages/. A page that
// fails shows its error in the page; the shell stays.

import { api, session, setSession, whenUnauthorized } from './api.js';
import { alertBox, h, loading, replace, statusBox } from './dom.js';
import { currentLang, setLang, t } from './i18n.js';

/** Route → page module and the nav item it lights. */
const ROUTES = [
  { pattern: /^\/?$/, page: 'canvas', nav: 'canvas' },
  { pattern: /^\/strategy\/(.+)$/, page: 'strategy', nav: 'canvas' },
  { pattern: /^\/runs$/, page: 'runs', nav: 'runs' },
  { pattern: /^\/member(?:\/(.*))?$/, page: 'member', nav: 'member' },
  { pattern: /^\/results$/, page: 'results', nav: 'results' },
  { pattern: /^\/dry-run(?:\/(.+))?$/, page: 'dry-run', nav: 'dry-run' },
  { pattern: /^\/outbox$/, page: 'outbox', nav: 'outbox' },
  { pattern: /^\/governance$/, page: 'governance', nav: 'governance' },
];

const NAV = ['canvas', 'runs', 'results', 'dry-run', 'outbox', 'governance'];
const NAV_HREF = { canvas: '#/', runs: '#/runs', results: '#/results', 'dry-run': '#/dry-run', outbox: '#/outbox', governance: '#/governance' };

const header = document.getElementById('top');
const main = document.getElementById('main');
/** Bumped on every render, so a slow page that finishes late does not overwrite a newer one. */
let generation = 0;
let signedIn = false;

/** `%E0%A4%A` and the like: a hand-typed hash that is not valid percent-encoding is taken as it is. */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function parseRoute() {
  const [path] = (location.hash.replace(/^#/, '') || '/').split('?');
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return { ...route, param: m[1] ? decoded(m[1]) : null };
  }
  return null;
}

function renderHeader(active) {
  document.documentElement.lang = currentLang() === 'zh' ? 'zh-CN' : 'en';
  const search = h('input', {
    type: 'search', id: 'member-search', name: 'member', autocomplete: 'off', spellcheck: 'false',
    placeholder: t('member.search.placeholder'),
  });
  const nav = signedIn ? h('nav', { 'aria-label': t('nav.label') },
    h('ul', {}, NAV.map((name) => h('li', {},
      h('a', { href: NAV_HREF[name], 'aria-current': name === active ? 'page' : null, text: t(`nav.${name}`) }))))) : null;
  const searchForm = signedIn ? h('form', {
    class: 'search', role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      const id = search.value.trim();
      if (id) location.hash = `#/member/${encodeURIComponent(id)}`;
    },
  }, h('label', { for: 'member-search', class: 'visually-hidden', text: t('member.search.label') }), search,
  h('button', { type: 'submit', class: 'secondary', text: t('member.search.go') })) : null;
  const toggle = h('button', {
    type: 'button', class: 'lang', lang: currentLang() === 'zh' ? 'en' : 'zh-CN',
    'aria-label': t('lang.toggle.label'),
    text: currentLang() === 'zh' ? 'English' : '中文',
    onclick: async () => {
      setLang(currentLang() === 'zh' ? 'en' : 'zh');
      await render();
      // The header was made anew: keep the keyboard where it was.
      const again = header.querySelector('button.lang');
      if (again) again.focus();
    },
  });
  const who = signedIn && session ? h('div', { class: 'who' },
    h('span', { class: 'who-name', text: session.read_only ? t('session.readonly', { name: session.name }) : session.name }),
    session.name !== 'open' ? h('button', { type: 'button', class: 'secondary', text: t('session.signout'), onclick: signOut }) : null) : null;
  replace(header,
    h('div', { class: 'bar' },
      h('a', { class: 'brand', href: '#/' }, h('span', { class: 'logo', 'aria-hidden': 'true', text: '◇' }), t('app.name')),
      searchForm,
      h('div', { class: 'tools' }, toggle, who)),
    nav);
}

async function signOut() {
  try {
    await api('/api/v1/session', { method: 'DELETE' });
  } catch {
    // Signed out or not, the view goes back to sign-in.
  }
  setSession(null);
  signedIn = false;
  render();
}

/**
 * Renders the current route (or the sign-in view) into <main>. A page that
 * re-renders itself after a change passes `flash`, the success message
 * shown under its new heading (the old one went with the old page).
 */
async function render(options) {
  const flash = options && typeof options.flash === 'string' ? options.flash : null;
  // Focus moves to the new heading when the operator went somewhere (a link,
  // a search, a re-render after a change); a page opened fresh keeps the
  // browser's order from the top (skip link, header, navigation).
  const moveFocus = Boolean(options && (options.focus || flash));
  const mine = ++generation;
  if (!signedIn) {
    renderHeader(null);
    const { render: signIn } = await import('./pages/sign-in.js');
    if (mine !== generation) return;
    replace(main, signIn({
      onSignedIn: async (s) => {
        setSession(s);
        signedIn = true;
        await render();
        // The sign-in form is gone: the keyboard goes on from the top of the app.
        const brand = header.querySelector('.brand');
        if (brand) brand.focus();
      },
    }));
    document.title = `${t('signin.title')} · ${t('app.name')}`;
    return;
  }
  const route = parseRoute();
  renderHeader(route ? route.nav : null);
  if (!route) {
    replace(main, h('div', { class: 'page', 'data-page': 'not-found' },
      h('h1', { tabindex: '-1', text: t('notfound.title') }), h('p', {}, h('a', { href: '#/', text: t('nav.canvas') }))));
    return;
  }
  replace(main, loading());
  let node;
  try {
    const module = await import(`./pages/${route.page}.js`);
    node = await module.render({ param: route.param, readOnly: Boolean(session && session.read_only), rerender: render, isCurrent: () => mine === generation });
  } catch (error) {
    node = h('div', { class: 'page', 'data-page': route.page }, h('h1', { tabindex: '-1', text: t(`nav.${route.nav}`) }), alertBox(error));
  }
  if (mine !== generation) return;
  replace(main, node);
  const title = main.querySelector('h1');
  if (flash && title) title.after(statusBox(flash));
  document.title = `${title ? title.textContent : ''} · ${t('app.name')}`;
  // Keyboard and screen-reader users land on the new page's heading.
  if (title && moveFocus) title.focus({ preventScroll: true });
}

async function start() {
  whenUnauthorized(() => {
    if (signedIn) {
      signedIn = false;
      setSession(null);
      render();
    }
  });
  try {
    setSession(await api('/api/v1/session', { quiet401: true }));
    signedIn = true;
  } catch (error) {
    if (error.status === 401) {
      signedIn = false;
    } else if (error.missingEndpoint) {
      // A server without console sessions (an open API behind a proxy): go on without one.
      setSession({ name: 'open', read_only: false, csrf: '' });
      signedIn = true;
    } else {
      replace(main, h('div', { class: 'page', 'data-page': 'sign-in' }, h('h1', { text: t('app.name') }), alertBox(error)));
      return;
    }
  }
  window.addEventListener('hashchange', () => render({ focus: true }));
  render();
}

start();
