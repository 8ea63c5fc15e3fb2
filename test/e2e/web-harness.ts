import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, testDeps, DEMO_PASSWORD, type TestApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { temporalEnv } from '../support/temporal';
import { seedDemo, seedDemoTypes } from '../../db/seed-demo';
import { ensureDevelopmentTrust } from '../../services/trust/seals';
import type { ActivityDeps } from '../../activities';

/**
 * The browser tests' world: the real Koa app in-process on SQLite with the demo departments,
 * staff, seals and types, serving the web pages, and Debian's Chromium driven by
 * playwright-core. Screenshots go to test-artifacts/ (gitignored).
 */
export const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export interface WebWorld {
  app: TestApp;
  deps: ActivityDeps;
  database: TestDatabase;
  browser: Browser;
  close(): Promise<void>;
}

/** App without a worker: for the pages whose API needs no workflow (sign-in, admin, language). */
export async function startWebWorld(): Promise<WebWorld> {
  const database = await createTestDatabase('sqlite');
  const deps = testDeps(database.db);
  await seedDemo(database.db, DEMO_PASSWORD);
  await ensureDevelopmentTrust(deps);
  await seedDemoTypes(database.db, deps.blobs);
  const [app, browser] = await Promise.all([
    temporalEnv().then((env) => startTestApp({ db: database.db, temporal: env.client, deps })),
    launchChromium(),
  ]);
  return {
    app,
    deps,
    database,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await app.close();
      await database.drop();
    },
  };
}

/** A fresh browser profile (own sessionStorage and localStorage) that fails the test on page errors. */
export async function newPage(
  browser: Browser,
  baseURL: string,
  opts: { locale?: string } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    baseURL,
    locale: opts.locale ?? 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1360, height: 900 },
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (
      msg.type() === 'error' &&
      !/Failed to load resource: the server responded with a status of (4\d\d)/.test(msg.text())
    )
      errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

export async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `web-${name}.png`), fullPage: opts.fullPage ?? true });
}
