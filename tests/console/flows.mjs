// The operator console's flows (issue 35) in Debian's headless Chromium,
// driven by playwright-core. tests/integration/console.rs starts the real
// service over a store it made and runs this script; it checks the store
// afterwards. Run by hand against `make console`:
//
//   CANVAS_URL=http://127.0.0.1:8720 CANVAS_TOKEN=... node tests/console/flows.mjs
//
// Each flow is a function; they run in order (later flows see what earlier
// ones changed: the 30-yuan run, the redriven dead letters), and a failing
// flow does not stop the others, so one run tells every flow's state. The
// script ends with "N passed, N failed" and exits 1 if any failed.
//
// Elements are found by role, label and the contract's data-* hooks
// (data-page, data-strategy, role=status|alert), never by CSS classes, so
// the UI may restyle freely; English labels are matched in the en pass.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (name, fallback) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) {
    console.error(`${name} is not set (tests/integration/console.rs sets it; see the top of this file)`);
    process.exit(2);
  }
  return value;
};

const URL = env('CANVAS_URL').replace(/\/$/, '');
const TOKEN = env('CANVAS_TOKEN');
const READONLY_TOKEN = env('CANVAS_READONLY_TOKEN', '');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const SCREENSHOTS = env('SCREENSHOTS', '');
const FAILURES = env('FAILURES', '');
// The member whose birthday touch was suppressed (deleted the brand on WeCom),
// and a level-1 member whose birthday touch the run after the change decides.
const SUPPRESSED = env('MEMBER_SUPPRESSED', '');
const THIRTY = env('MEMBER_THIRTY', '');
const STRATEGY = env('STRATEGY', 'birthday-tiered');
const SUPPRESSED_REASON = env('SUPPRESSED_REASON', 'deleted the brand on WeCom');
// A member whose name is HTML (`<img src=x onerror=window.__pwned=2>`): shown as text.
const HOSTILE = env('MEMBER_HOSTILE', '');
const DRY_FROM = env('DRY_RUN_FROM', '2026-02-01');
const DRY_TO = env('DRY_RUN_TO', '2026-02-03');
// The live results' range: the test's runs fall in it (the service's clock
// is not the browser's, whose today the page starts from).
const RESULTS_FROM = env('RESULTS_FROM', '');
const RESULTS_TO = env('RESULTS_TO', '');

const PAGES = ['canvas', 'strategy', 'runs', 'member', 'results', 'dry-run', 'outbox', 'governance'];
const ROUTES = {
  canvas: '#/',
  strategy: `#/strategy/${STRATEGY}`,
  runs: '#/runs',
  member: `#/member/${SUPPRESSED}`,
  results: RESULTS_FROM ? `#/results?from=${RESULTS_FROM}&to=${RESULTS_TO}` : '#/results',
  'dry-run': '#/dry-run',
  outbox: '#/outbox',
  governance: '#/governance',
};

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});

/** A fresh browser context (its own cookies and localStorage) in `locale`. */
async function newPage(locale = 'en-US') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale, baseURL: URL });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  // A confirm() (forcing a run asks one) is accepted: the flow asked for it.
  page.on('dialog', (dialog) => dialog.accept());
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.jsErrors = errors;
  return page;
}

function fail(message) {
  throw new Error(message);
}

async function expectPage(page, name, timeout = 15_000) {
  try {
    await page.locator(`[data-page="${name}"]`).first().waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await page.locator('[data-page]').evaluateAll((els) => els.map((e) => e.dataset.page));
    fail(`expected the ${name} page (data-page="${name}"), shown: [${shown.join(', ')}] at ${page.url()}`);
  }
}

/** The sign-in form's token field. */
const tokenField = (page) => page.locator('[data-page="sign-in"]').getByLabel(/token|令牌/i);

async function signIn(page, token) {
  await page.goto('/');
  await expectPage(page, 'sign-in');
  await tokenField(page).fill(token);
  await page.locator('[data-page="sign-in"]').getByRole('button', { name: /sign in|登录/i }).click();
}

async function signedIn(locale = 'en-US', token = TOKEN) {
  const page = await newPage(locale);
  await signIn(page, token);
  await expectPage(page, 'canvas');
  return page;
}

/** Texts of the page's "loading" status, which is no outcome of an action. */
const LOADING = /^(Loading…|加载中…|Running…|运行中…)$/;

/**
 * The visible message after an action: role=status (success) or role=alert
 * (the API's error), waiting past "Loading…" statuses.
 */
async function message(page, role, timeout = 15_000) {
  const texts = async (r) =>
    (await page.locator(`[role="${r}"]:visible`).allInnerTexts()).map((x) => x.trim()).filter((x) => x && !LOADING.test(x));
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const shown = await texts(role);
    if (shown.length) return shown.join(' | ');
    await page.waitForTimeout(100);
  }
  const other = role === 'status' ? 'alert' : 'status';
  const instead = await texts(other);
  fail(`no role="${role}" message shown${instead.length ? `; role="${other}" says: ${instead.join(' | ')}` : ''}`);
}

/** Confirms a modal <dialog> the action opened (forcing a run, a redrive), with its `confirm` button. */
async function confirmDialog(page, confirm) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor({ state: 'visible', timeout: 5_000 });
  await dialog.getByRole('button', { name: confirm }).click();
}

/** The API as the signed-in browser calls it: its cookie, and the session's CSRF token on changes. */
async function api(page, method, path, body, { csrf = true, headers = {} } = {}) {
  return page.evaluate(
    async ({ method, path, body, csrf, headers }) => {
      const h = { ...headers };
      if (csrf && method !== 'GET') {
        const session = await fetch('/api/v1/session').then((r) => r.json());
        h['X-CSRF-Token'] = session.csrf;
      }
      if (body !== undefined) h['Content-Type'] = 'application/json';
      const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: r.status, json, text };
    },
    { method, path, body, csrf, headers },
  );
}

/** The API with the bearer token, from node (what a script does): to check what the UI did. */
async function bearer(method, path, body) {
  const r = await fetch(URL + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function until(what, check, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`gave up waiting (${timeout / 1000} s): ${what}`);
}

/** The config form's field for a key path such as `levels.1.value`. */
function configField(page, path) {
  const [, level, key] = path.match(/^levels\.(\d+)\.(\w+)$/) ?? [];
  const words = level ? new RegExp(`^(levels\\.${level}\\.${key}|level ${level}.*${key})$`, 'i') : new RegExp(`^${path}$`, 'i');
  return page.locator('[data-page="strategy"]').getByLabel(words);
}

async function saveConfig(page) {
  await page.locator('[data-page="strategy"]').getByRole('button', { name: /^save|保存/i }).first().click();
}

// Every input, select and textarea on the page has an accessible name (a
// <label>, aria-label or aria-labelledby; a placeholder is not a name), as
// Chromium's accessibility tree computes it. Fails naming the controls.
async function checkAccessibleNames(page, where) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const selector = 'input:not([type="hidden"]), select, textarea';
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector });
    const unnamed = [];
    for (const nodeId of nodeIds) {
      const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
      const node = nodes[0];
      if (!node || node.ignored) continue; // not rendered (display: none): nobody reaches it
      const name = node.name?.value?.trim() ?? '';
      const from = (node.name?.sources ?? []).find((s) => !s.superseded && s.value?.value?.trim());
      if (!name || from?.type === 'placeholder') {
        const { outerHTML } = await cdp.send('DOM.getOuterHTML', { nodeId });
        unnamed.push(outerHTML.slice(0, 160) + (name ? ` (named only by its placeholder "${name}")` : ''));
      }
    }
    if (unnamed.length) fail(`${where}: controls without an accessible name:\n      ${unnamed.join('\n      ')}`);
    return nodeIds.length;
  } finally {
    await cdp.detach();
  }
}

// ---------------------------------------------------------------- the flows

async function aWrongTokenIsRefused() {
  const page = await newPage();
  await signIn(page, 'not-the-token');
  const said = await message(page, 'alert');
  await expectPage(page, 'sign-in');
  const session = await api(page, 'GET', '/api/v1/session');
  if (session.status !== 401) fail(`after a refused sign-in GET /api/v1/session answers ${session.status}, not 401`);
  await page.context().close();
  return `refused: ${said}`;
}

async function signInWithTheKeyboardOnlyAndTabReachesTheNav() {
  const page = await newPage();
  await page.goto('/');
  await expectPage(page, 'sign-in');
  const field = tokenField(page);
  let tabs = 0;
  for (; tabs < 15 && !(await field.evaluate((el) => el === document.activeElement)); tabs++) {
    await page.keyboard.press('Tab');
  }
  if (!(await field.evaluate((el) => el === document.activeElement))) fail('15 Tabs never reached the token field');
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await expectPage(page, 'canvas');
  // From the top of the page, Tab reaches a link of the navigation.
  await page.evaluate(() => document.activeElement?.blur());
  let inNav = false;
  for (let i = 0; i < 25 && !inNav; i++) {
    await page.keyboard.press('Tab');
    inNav = await page.evaluate(() => {
      const el = document.activeElement;
      return !!el?.closest('nav, [role="navigation"]') && el.matches('a[href], button');
    });
  }
  if (!inNav) fail('25 Tabs from the top never reached a link in the navigation (<nav> or role=navigation)');
  // The focused link shows it has the focus (an outline or a ring).
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 ? 'outline' : style.boxShadow !== 'none' ? 'ring' : null;
  });
  if (!ring) fail('the nav link focused by Tab shows no focus (no outline, no box-shadow)');
  // ... and Enter on it opens its page: the keyboard alone moves around.
  const target = await page.evaluate(() => document.activeElement.getAttribute('href'));
  await page.keyboard.press('Enter');
  if (target?.startsWith('#/')) {
    await until(`Enter on ${target} opens it`, async () => page.url().endsWith(target));
  }
  await page.context().close();
  return `token field after ${tabs} Tab(s); nav link reached, its focus shown (${ring}), Enter opened ${target}`;
}

async function aReadOnlyTokenSeesButItsChangeIsRefused() {
  if (!READONLY_TOKEN) return 'skipped: no CANVAS_READONLY_TOKEN';
  const page = await signedIn('en-US', READONLY_TOKEN);
  await page.locator(`[data-strategy="${STRATEGY}"]`).first().waitFor();
  await page.goto(`/${ROUTES.strategy}`);
  await expectPage(page, 'strategy');
  const save = page.locator('[data-page="strategy"]').getByRole('button', { name: /^save|保存/i });
  if ((await save.count()) && (await save.first().isVisible()) && (await save.first().isEnabled())) {
    fail('the read-only session is offered an enabled Save button (the contract: hidden or greyed out)');
  }
  const refused = await api(page, 'PUT', `/api/v1/plugins/${STRATEGY}/config`, {
    levels: { 1: { kind: 'coupon', value: 99 } },
  });
  if (refused.status !== 403 || !/read-only/.test(refused.json?.error ?? '')) {
    fail(`a read-only session's config change answered ${refused.status} ${refused.text}, not 403 read-only`);
  }
  // Every kind of change, each with the session's own CSRF token: all refused.
  const changes = [
    ['POST', '/api/v1/runs', { strategies: [STRATEGY], force: true }],
    ['POST', `/api/v1/plugins/${STRATEGY}/disable`, undefined],
    ['POST', `/api/v1/plugins/${STRATEGY}/rollback`, undefined],
    ['POST', '/api/v1/dead-letters/redrive', {}],
    ['POST', `/api/v1/members/${SUPPRESSED || 'M1'}/do-not-contact`, { reason: 'read-only try' }],
    ['DELETE', `/api/v1/members/${SUPPRESSED || 'M1'}/do-not-contact`, undefined],
    ['POST', '/api/v1/runs/cancel', { strategy: STRATEGY, at: '2026-02-01T10:00:00+08:00' }],
  ];
  for (const [method, path, body] of changes) {
    const answer = await api(page, method, path, body);
    if (answer.status !== 403) fail(`a read-only session's ${method} ${path} answered ${answer.status}, not 403`);
  }
  // A preview only reads: the read-only session may ask for one.
  const preview = await api(page, 'POST', `/api/v1/plugins/${STRATEGY}/preview`, {});
  if (preview.status !== 200) fail(`a read-only session's preview answered ${preview.status}: ${preview.text}`);
  await page.context().close();
  return `${changes.length + 1} changes refused 403 (${refused.json.error}); a preview allowed`;
}

async function changeTheLevelOneCouponFromTwentyToThirty() {
  const page = await signedIn();
  await page.locator(`[data-strategy="${STRATEGY}"]`).first().getByRole('link').first().click();
  await expectPage(page, 'strategy');
  const field = configField(page, 'levels.1.value');
  const before = await field.inputValue();
  if (Number(before) !== 20) fail(`the level-1 coupon shows ${before}, not the default 20`);
  await field.fill('30');
  await saveConfig(page);
  const said = await message(page, 'status');
  const shown = await bearer('GET', `/api/v1/plugins/${STRATEGY}`);
  const value = shown.json?.config?.levels?.['1']?.value;
  if (Number(value) !== 30) fail(`after saving, the stored config's levels.1.value is ${value}`);
  await page.context().close();
  return `saved (${said})`;
}

async function anInvalidConfigIsRefusedWithThePluginsMessage() {
  const page = await signedIn();
  await page.goto(`/${ROUTES.strategy}`);
  await expectPage(page, 'strategy');
  const field = configField(page, 'levels.1.value');
  await field.fill('-30');
  await saveConfig(page);
  const said = await message(page, 'alert');
  const expected = 'levels.1.value: must be from 0.01 to 100000000 yuan (is -30)';
  if (!said.includes(expected)) fail(`the alert says "${said}", not the plugin's "${expected}"`);
  const shown = await bearer('GET', `/api/v1/plugins/${STRATEGY}`);
  if (Number(shown.json?.config?.levels?.['1']?.value) !== 30) fail('the refused config changed the stored one');
  await page.context().close();
  return `alert: ${said}`;
}

async function runNowAndTheRunUsesThirtyYuan() {
  const page = await signedIn();
  await page.goto(`/${ROUTES.runs}`);
  await expectPage(page, 'runs');
  const root = page.locator('[data-page="runs"]');
  const before = (await bearer('GET', `/api/v1/runs?strategy=${STRATEGY}`)).json.length;
  // The run instant is not the strategy's slot: the run is forced, which
  // asks to confirm in a dialog.
  await root.getByLabel(/^(strategy|策略)$/i).first().selectOption(STRATEGY);
  await root.getByLabel(/force|强制/i).first().check();
  await root.getByRole('button', { name: /run now|立即运行/i }).first().click();
  await confirmDialog(page, /force the run|强制运行/i);
  const said = await message(page, 'status', 60_000);
  const runs = (await bearer('GET', `/api/v1/runs?strategy=${STRATEGY}`)).json;
  if (runs.length <= before) fail(`no new ${STRATEGY} run after Run now (${said})`);
  // The new run is in the history the page shows.
  await root.getByRole('row').filter({ has: page.getByRole('link', { name: STRATEGY, exact: true }) }).first().waitFor();
  // ... and the member's decision of that run carries the 30-yuan coupon.
  await page.goto(`/#/member/${THIRTY}`);
  await expectPage(page, 'member');
  const member = page.locator('[data-page="member"]');
  await member.getByRole('row').filter({ hasText: STRATEGY }).filter({ hasText: /¥\s?30(\.00)?\b/ }).first().waitFor();
  await page.context().close();
  return `${said}; ${THIRTY}'s birthday coupon shows ¥30`;
}

async function lookUpAMemberAndSeeWhyATouchWasSuppressed() {
  const page = await signedIn();
  const search = page.getByRole('searchbox').or(page.getByLabel(/member id|会员/i)).first();
  await search.fill(SUPPRESSED);
  await search.press('Enter');
  await expectPage(page, 'member');
  const member = page.locator('[data-page="member"]');
  await member.getByText(SUPPRESSED).first().waitFor();
  // The decision's row says it was suppressed, and why.
  await member.getByRole('row').filter({ hasText: /suppressed/i }).filter({ hasText: SUPPRESSED_REASON }).first().waitFor();
  await page.context().close();
  return `${SUPPRESSED}: suppressed, "${SUPPRESSED_REASON}"`;
}

async function openResults() {
  const page = await signedIn();
  await page.getByRole('navigation').getByRole('link', { name: /results|效果/i }).first().click();
  await expectPage(page, 'results', 30_000);
  const root = page.locator('[data-page="results"]');
  await root.getByRole('heading', { level: 1 }).waitFor();
  if (RESULTS_FROM) {
    await root.getByLabel(/^from$/i).fill(RESULTS_FROM);
    await root.getByLabel(/^to$/i).fill(RESULTS_TO);
    await root.getByRole('button', { name: /^show$/i }).click();
  }
  await until('a chart (canvas or svg) on the results page', async () => (await root.locator('canvas, svg').count()) > 0);
  const alerts = await root.locator('[role="alert"]:visible').allInnerTexts();
  if (alerts.some((a) => a.trim())) fail(`the results page shows an error: ${alerts.join(' | ')}`);
  await page.context().close();
  return 'results with charts';
}

async function startADryRunAndSeeItsReport() {
  const page = await signedIn();
  await page.goto(`/${ROUTES['dry-run']}`);
  await expectPage(page, 'dry-run');
  const root = page.locator('[data-page="dry-run"]');
  await root.getByLabel(/^(from|开始日期)$/i).fill(DRY_FROM);
  await root.getByLabel(/^(to|结束日期)$/i).fill(DRY_TO);
  await root.getByRole('checkbox', { name: STRATEGY }).check();
  await root.getByRole('button', { name: /start|开始/i }).first().click();
  // Done: a link to its report; failed (or refused): an alert.
  const report = root.getByRole('link', { name: /report|报告/i }).first();
  const alert = root.locator('[role="alert"]:visible').first();
  await report.or(alert).waitFor({ state: 'visible', timeout: 180_000 });
  if (await alert.isVisible()) fail(`the dry run did not run: ${await alert.innerText()}`);
  const href = await report.getAttribute('href');
  const opened = await page.evaluate(async (href) => {
    const r = await fetch(href);
    return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
  }, href);
  if (opened.status !== 200 || !/<html/i.test(opened.text)) fail(`the report at ${href} answered ${opened.status}`);
  if (!opened.text.includes(STRATEGY)) fail(`the report at ${href} does not name ${STRATEGY}`);
  await page.context().close();
  return `report ${href} (${opened.text.length} bytes)`;
}

async function redriveADeadLetter() {
  const dead = (await bearer('GET', '/api/v1/dead-letters')).json;
  if (!dead.length) fail('no dead letter to redrive (the harness makes them: a failing webhook)');
  const page = await signedIn();
  await page.goto(`/${ROUTES.outbox}`);
  await expectPage(page, 'outbox');
  const root = page.locator('[data-page="outbox"]');
  // The dead letters are listed (with why their last attempt failed).
  await root.getByText(/HTTP 503/).first().waitFor();
  await root.getByRole('button', { name: /redrive all|全部重新投递|全部重投/i }).first().click();
  await confirmDialog(page, /^(redrive|重新投递|重投)$/i);
  const said = await message(page, 'status');
  await until('the dead letters are delivered after the redrive', async () => {
    const left = (await bearer('GET', '/api/v1/dead-letters')).json;
    return left.length < dead.length;
  });
  await page.context().close();
  return `${said}`;
}

// An attacker's page cannot make a signed-in browser change anything:
// without the session's CSRF header, or from another origin, it is refused.
async function crossSiteRequestsAreRefused() {
  const page = await signedIn();
  const runsBefore = (await bearer('GET', '/api/v1/runs')).json.length;
  const noHeader = await api(page, 'POST', '/api/v1/runs', { force: true }, { csrf: false });
  if (noHeader.status !== 403) fail(`a POST with the cookie but no X-CSRF-Token answered ${noHeader.status}, not 403`);
  // The context's request API sends the cookie too, with no CSRF header and a foreign Origin.
  const foreign = await page.context().request.post('/api/v1/runs', {
    data: { force: true },
    headers: { Origin: 'http://evil.example' },
  });
  if (foreign.status() !== 403) fail(`a POST from Origin http://evil.example answered ${foreign.status()}, not 403`);
  const session = await api(page, 'GET', '/api/v1/session');
  const wrongOrigin = await page.context().request.post('/api/v1/runs', {
    data: { force: true },
    headers: { Origin: 'http://evil.example', 'X-CSRF-Token': session.json.csrf },
  });
  if (wrongOrigin.status() !== 403) fail(`the right CSRF token from a foreign Origin answered ${wrongOrigin.status()}`);
  const fetchSite = await page.context().request.post('/api/v1/runs', {
    data: { force: true },
    headers: { 'Sec-Fetch-Site': 'cross-site', 'X-CSRF-Token': session.json.csrf },
  });
  if (fetchSite.status() !== 403) fail(`the right CSRF token marked Sec-Fetch-Site: cross-site answered ${fetchSite.status()}`);
  const wrongToken = await api(page, 'POST', '/api/v1/runs', { force: true }, {
    csrf: false,
    headers: { 'X-CSRF-Token': '0'.repeat(session.json.csrf.length || 64) },
  });
  if (wrongToken.status !== 403) fail(`a wrong X-CSRF-Token answered ${wrongToken.status}, not 403`);
  // A real cross-site form post from another site's page: the SameSite=Strict
  // cookie is not sent, so the API sees no session.
  const attacker = await page.context().newPage();
  await attacker.goto('about:blank');
  await attacker.setContent(
    `<form method="post" enctype="text/plain" action="${URL}/api/v1/runs"><input name='{"force":true,"x":"' value='"}'></form>`,
  );
  const [posted] = await Promise.all([
    attacker.waitForResponse((r) => r.url().endsWith('/api/v1/runs')),
    attacker.evaluate(() => document.forms[0].submit()),
  ]);
  if (posted.status() < 400) fail(`a cross-site form POST answered ${posted.status()}`);
  const runsAfter = (await bearer('GET', '/api/v1/runs')).json.length;
  if (runsAfter !== runsBefore) fail(`${runsAfter - runsBefore} run(s) started by refused cross-site requests`);
  await page.context().close();
  return `no header ${noHeader.status}, foreign origin ${foreign.status()}/${wrongOrigin.status()}, Sec-Fetch-Site cross-site ${fetchSite.status()}, wrong token ${wrongToken.status}, cross-site form ${posted.status()}; no run started`;
}

// Every page in Chinese and English: each has one <h1>, labelled controls,
// no script error; a screenshot of each into SCREENSHOTS.
async function everyPageInChineseAndEnglish() {
  const notes = [];
  const broken = [];
  for (const [lang, locale] of [['zh', 'zh-CN'], ['en', 'en-US']]) {
    const page = await newPage(locale);
    await page.goto('/');
    await expectPage(page, 'sign-in');
    await shoot(page, 'sign-in', lang);
    await checkAccessibleNames(page, `sign-in (${lang})`);
    await tokenField(page).fill(TOKEN);
    await tokenField(page).press('Enter');
    await expectPage(page, 'canvas');
    const htmlLang = await page.evaluate(() => document.documentElement.lang);
    if (!htmlLang.startsWith(lang)) fail(`with the browser in ${locale} the page's lang is "${htmlLang}"`);
    let controls = 0;
    for (const name of PAGES) {
      await page.goto(`/${ROUTES[name]}`);
      await expectPage(page, name);
      await page.waitForLoadState('networkidle');
      const h1 = await page.locator(`[data-page="${name}"] h1, h1`).count();
      if (h1 < 1) fail(`${name} (${lang}) has no <h1>`);
      const h1s = await page.locator('h1:visible').count();
      if (h1s !== 1) fail(`${name} (${lang}) has ${h1s} visible <h1>s, not one`);
      controls += await checkAccessibleNames(page, `${name} (${lang})`);
      await shoot(page, name, lang);
      // A page for the docs shows its data, not an error.
      const alerts = (await page.locator('[role="alert"]:visible').allInnerTexts()).filter((a) => a.trim());
      if (alerts.length) broken.push(`${name} (${lang}): ${alerts.join(' | ')}`);
    }
    if (page.jsErrors.length) fail(`script errors (${lang}): ${page.jsErrors.join(' | ')}`);
    notes.push(`${lang}: ${PAGES.length + 1} pages, ${controls} controls named`);
    await page.context().close();
  }
  if (broken.length) fail(`pages showing an error (role=alert):\n${broken.join('\n')}`);
  return notes.join('; ');
}

async function shoot(page, name, lang) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Let charts finish their entry animation before the picture.
  await page.waitForTimeout(600);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-${lang}.png`) });
}

// A session id planted in the browser before sign-in (session fixation) is
// worth nothing: the service ignores it and signs in with a new one.
async function aPlantedSessionCookieIsNotAdopted() {
  const page = await newPage();
  const planted = 'a'.repeat(64);
  await page.context().addCookies([{ name: 'canvas_session', value: planted, url: URL }]);
  await page.goto('/');
  await expectPage(page, 'sign-in');
  await tokenField(page).fill(TOKEN);
  await tokenField(page).press('Enter');
  await expectPage(page, 'canvas');
  const now = (await page.context().cookies()).find((c) => c.name === 'canvas_session');
  if (!now || now.value === planted) fail('signing in kept the session id planted before it');
  const old = await fetch(`${URL}/api/v1/plugins`, { headers: { Cookie: `canvas_session=${planted}` } });
  if (old.status !== 401) fail(`the planted session id gets ${old.status}, not 401`);
  await page.context().close();
  return 'a new session id; the planted one gets 401';
}

// Text from the data (a member's name, an operator's reason) and from the
// address bar is shown as text, never run as HTML.
async function hostileTextIsShownNeverRun() {
  const page = await signedIn();
  const payload = '<img src=x onerror="window.__pwned=1">';
  await page.goto(`/#/member/${encodeURIComponent(payload)}`);
  await expectPage(page, 'member');
  await page.locator('[data-page="member"] h1').filter({ hasText: '<img' }).first().waitFor();
  const search = page.getByRole('searchbox').first();
  await search.fill(payload);
  await search.press('Enter');
  await expectPage(page, 'member');
  let shown = 'the address bar and the search box';
  if (HOSTILE) {
    await page.goto(`/#/member/${HOSTILE}`);
    await expectPage(page, 'member');
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(500);
    if (await page.getByText('<img src=x onerror=window.__pwned=2>').count()) shown += ', a member name';
  }
  const pwned = await page.evaluate(() => window.__pwned);
  const planted = await page.locator('img[onerror], script:not([src])').count();
  if (pwned !== undefined || planted) fail(`hostile text ran (window.__pwned = ${pwned}) or made ${planted} element(s)`);
  await page.context().close();
  return `shown as text: ${shown}`;
}

async function signOutEndsTheSession() {
  const page = await signedIn();
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'canvas_session');
  if (!session) fail(`no canvas_session cookie after sign-in (cookies: ${cookies.map((c) => c.name).join(', ')})`);
  if (!session.httpOnly || session.sameSite !== 'Strict') {
    fail(`the session cookie is httpOnly=${session.httpOnly} sameSite=${session.sameSite}, not HttpOnly SameSite=Strict`);
  }
  if (await page.evaluate(() => document.cookie.includes('canvas_session'))) fail('scripts can read the session cookie');
  await page.getByRole('button', { name: /sign out|退出/i }).first().click();
  await expectPage(page, 'sign-in');
  const old = await fetch(`${URL}/api/v1/session`, { headers: { Cookie: `canvas_session=${session.value}` } });
  if (old.status !== 401) fail(`after sign-out the old cookie still gets ${old.status} from GET /api/v1/session`);
  const plugins = await fetch(`${URL}/api/v1/plugins`, { headers: { Cookie: `canvas_session=${session.value}` } });
  if (plugins.status !== 401) fail(`after sign-out the old cookie still gets ${plugins.status} from /api/v1/plugins`);
  await page.context().close();
  return 'the old cookie gets 401';
}

const FLOWS = [
  aWrongTokenIsRefused,
  signInWithTheKeyboardOnlyAndTabReachesTheNav,
  aReadOnlyTokenSeesButItsChangeIsRefused,
  changeTheLevelOneCouponFromTwentyToThirty,
  anInvalidConfigIsRefusedWithThePluginsMessage,
  runNowAndTheRunUsesThirtyYuan,
  lookUpAMemberAndSeeWhyATouchWasSuppressed,
  openResults,
  startADryRunAndSeeItsReport,
  redriveADeadLetter,
  crossSiteRequestsAreRefused,
  aPlantedSessionCookieIsNotAdopted,
  hostileTextIsShownNeverRun,
  everyPageInChineseAndEnglish,
  signOutEndsTheSession,
];

const only = process.env.FLOWS ? new RegExp(process.env.FLOWS, 'i') : null;
let passed = 0;
let failed = 0;
for (const flow of FLOWS) {
  if (only && !only.test(flow.name)) continue;
  const started = Date.now();
  try {
    const note = await flow();
    passed++;
    console.log(`ok    ${flow.name} (${((Date.now() - started) / 1000).toFixed(1)} s): ${note}`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${flow.name}: ${e.message.split('\n').slice(0, 12).join('\n      ')}`);
    if (FAILURES) {
      mkdirSync(FAILURES, { recursive: true });
      for (const context of browser.contexts()) {
        for (const [i, page] of context.pages().entries()) {
          await page.screenshot({ path: join(FAILURES, `${flow.name}-${i}.png`) }).catch(() => {});
        }
      }
      console.log(`      (screenshots in ${FAILURES}/${flow.name}-*.png)`);
    }
  }
  // A failed flow may leave its context open: close it so the next starts clean.
  for (const context of browser.contexts()) await context.close().catch(() => {});
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
