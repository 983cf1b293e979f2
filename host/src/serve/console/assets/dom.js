// Building the page from data: elements made with createElement and text
// set with textContent only, never innerHTML — member names, plugin
// messages and config values come from outside and must stay text.
// Plus the few shared pieces every page uses: tables, panels, the
// role="alert"/role="status" messages the browser test reads, a <dialog>
// confirmation.

import { t } from './i18n.js';

/**
 * h('a', {href: '#/', class: 'x', onclick: fn, 'data-page': 'p'}, child, …):
 * children may be strings, numbers, nodes, arrays or null (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'value') {
      el.value = value;
    } else if (key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Empties `el` and puts `children` in it. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A page's root: data-page for the browser test, one <h1> (focusable, so the router can move focus to it). */
export function pageRoot(name, title, ...children) {
  return h('div', { class: 'page', 'data-page': name },
    h('h1', { tabindex: '-1', text: title }),
    children);
}

/** A white panel with an <h2>. */
export function panel(title, ...children) {
  return h('section', { class: 'panel' }, title ? h('h2', { text: title }) : null, children);
}

/** The API's error as the contract says: `error` verbatim, then its `details`. */
export function alertBox(error) {
  const message = error && error.message ? error.message : String(error);
  const details = (error && error.details) || [];
  return h('div', { class: 'msg alert', role: 'alert' },
    h('span', { class: 'msg-text', text: message }),
    details.length ? h('ul', { class: 'details' }, details.map((d) => h('li', { text: String(d) }))) : null);
}

/** A success message after an action. */
export function statusBox(text) {
  return h('div', { class: 'msg ok', role: 'status', text });
}

/** A slot for the message of an action, next to its button. */
export function messageSlot() {
  return h('div', { class: 'slot', 'aria-live': 'polite' });
}

/** Shows in `slot` the outcome of `work` (a promise): `ok(result)` text on success, the error on failure. */
export async function report(slot, work, ok) {
  replace(slot);
  try {
    const result = await work;
    const text = ok ? ok(result) : t('done');
    if (text) replace(slot, statusBox(text));
    return result;
  } catch (error) {
    replace(slot, alertBox(error));
    return undefined;
  }
}

export function loading() {
  // Not a role=status: that is kept for the outcome of an action.
  return h('p', { class: 'loading', 'aria-busy': 'true', text: t('loading') });
}

/** A muted one-line note. */
export function note(text) {
  return h('p', { class: 'note', text });
}

/**
 * A table: columns [{label, cell: row => node|string, num: true}], rows,
 * {caption, empty, className}. Wrapped to scroll sideways on narrow screens.
 */
export function table(columns, rows, options = {}) {
  if (!rows.length && options.empty) return note(options.empty);
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null, text: c.label }))));
  const body = h('tbody', {}, rows.map((row) => h('tr', { class: options.rowClass ? options.rowClass(row) : null },
    columns.map((c, i) => {
      const value = c.cell(row);
      const attrs = { class: [c.num ? 'num' : '', c.wrap ? 'wrap' : ''].join(' ').trim() || null };
      return i === 0 && options.rowHeader ? h('th', { scope: 'row', ...attrs }, value) : h('td', attrs, value);
    }))));
  return h('div', { class: 'scroll' },
    h('table', { class: options.className || null },
      options.caption ? h('caption', { text: options.caption }) : null, head, body));
}

/** A <dl> of [term, value] pairs, skipping null values. */
export function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

/** A small coloured label (status, enabled). */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind || ''}`.trim(), text });
}

/** A labelled control: <label>text (or nodes)</label> then the control (which gets an id). */
let ids = 0;
export function field(labelText, control, hint) {
  if (!control.id) control.id = `f${++ids}`;
  const hintEl = hint ? h('span', { class: 'hint', id: `${control.id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const wrapper = h('div', { class: control.type === 'checkbox' ? 'field check' : 'field' });
  const label = h('label', { for: control.id }, labelText);
  if (control.type === 'checkbox') append(wrapper, [control, label, hintEl]);
  else append(wrapper, [label, control, hintEl]);
  return wrapper;
}

/** A fresh id for aria references. */
export function newId(prefix) {
  return `${prefix}${++ids}`;
}

/**
 * Asks to confirm in a modal <dialog> (focus trapped by the browser, Escape
 * cancels). Resolves true only for the confirm button.
 */
export function confirmDialog({ title, body, confirm, danger }) {
  return new Promise((resolve) => {
    const titleId = newId('dlg');
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': titleId });
    const cancel = h('button', { type: 'button', class: 'secondary', text: t('cancel'), onclick: () => dialog.close('cancel') });
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary', text: confirm, onclick: () => dialog.close('ok') });
    replace(dialog,
      h('h2', { id: titleId, text: title }),
      body ? h('p', { text: body }) : null,
      h('div', { class: 'buttons' }, cancel, ok));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A link to a member's page. */
export function memberLink(id) {
  return h('a', { href: `#/member/${encodeURIComponent(id)}`, text: id });
}

/** A link to a strategy's page. */
export function strategyLink(id, name) {
  return h('a', { href: `#/strategy/${encodeURIComponent(id)}`, text: name || id });
}

/** Whether a value is a plain JSON object. */
export function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
