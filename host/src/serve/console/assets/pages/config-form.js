// A strategy's config as a form, generated from its default config and the
// config that runs (effective): nested objects are fieldsets, numbers number
// inputs, booleans checkboxes, strings text, arrays (and nulls) JSON text.
// `changes()` reads back only the leaves the operator changed, as a nested
// object, or the fields it cannot read (each named by its path).

import { field, h, isObject } from '../dom.js';
import { compact } from '../format.js';
import { t } from '../i18n.js';

/** The union of keys, the defaults' order first (the plugin's own order). */
function keysOf(defaults, effective) {
  const keys = Object.keys(isObject(defaults) ? defaults : {});
  for (const k of Object.keys(isObject(effective) ? effective : {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

function kindOf(value) {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'json';
}

export function configForm(defaults, effective, { readOnly }) {
  const leaves = [];

  function build(def, eff, path) {
    return keysOf(def, eff).map((key) => {
      const d = isObject(def) ? def[key] : undefined;
      const value = isObject(eff) && key in eff ? eff[key] : d;
      const p = [...path, key];
      if (isObject(value)) {
        return h('fieldset', { class: 'group', 'data-key': p.join('.') },
          h('legend', { text: key }),
          build(d, value, p));
      }
      return leaf(p, key, value, d);
    });
  }

  function leaf(path, key, value, def) {
    const kind = kindOf(value);
    const name = path.join('.');
    let input;
    if (kind === 'number') {
      input = h('input', { type: 'number', step: 'any', name, value: String(value), inputmode: 'decimal' });
    } else if (kind === 'boolean') {
      input = h('input', { type: 'checkbox', name, checked: value });
    } else if (kind === 'string') {
      input = h('input', { type: 'text', name, value, spellcheck: 'false' });
    } else {
      const text = JSON.stringify(value, null, 1) ?? 'null';
      input = h('textarea', { name, rows: Math.min(8, text.split('\n').length + 1), spellcheck: 'false', class: 'json', value: text });
    }
    input.disabled = readOnly;
    leaves.push({ path, kind, input, original: value });
    const differs = def !== undefined && JSON.stringify(def) !== JSON.stringify(value);
    const hint = [kind === 'json' ? t('config.json') : null, differs ? t('config.default', { value: compact(def) }) : null]
      .filter(Boolean).join(' · ');
    // Seen: the key in its fieldset; heard (the accessible name): the whole path, `levels.1.value`.
    const prefix = path.length > 1 ? h('span', { class: 'visually-hidden', text: `${path.slice(0, -1).join('.')}.` }) : null;
    const wrapper = field([prefix, key], input, hint || null);
    wrapper.dataset.key = name;
    return wrapper;
  }

  const element = h('div', { class: 'config-fields' }, build(defaults, effective, []));

  /** {changed: nested object of changed leaves, errors: [text]}. */
  function changes() {
    const changed = {};
    const errors = [];
    for (const { path, kind, input, original } of leaves) {
      let value;
      const name = path.join('.');
      if (kind === 'number') {
        const text = input.value.trim();
        value = Number(text);
        if (text === '' || !Number.isFinite(value)) {
          errors.push(t('config.badnumber', { name }));
          continue;
        }
      } else if (kind === 'boolean') {
        value = input.checked;
      } else if (kind === 'string') {
        value = input.value;
      } else {
        try {
          value = JSON.parse(input.value);
        } catch (e) {
          errors.push(t('config.badjson', { name, error: e.message }));
          continue;
        }
      }
      if (JSON.stringify(value) === JSON.stringify(original)) continue;
      let at = changed;
      for (const key of path.slice(0, -1)) {
        if (!isObject(at[key])) at[key] = {};
        at = at[key];
      }
      at[path[path.length - 1]] = value;
    }
    return { changed, errors };
  }

  return { element, changes };
}

/** `over` laid on `base`, objects merged key by key (as the host merges config layers). */
export function deepMerge(base, over) {
  const out = isObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(over)) {
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k], v) : v;
  }
  return out;
}
