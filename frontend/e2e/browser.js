// Debian's Chromium driven by playwright-core: no browser is ever downloaded.
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots')
export const DESKTOP = { width: 1440, height: 900 }
export const PHONE = { width: 375, height: 812 }

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  })
}

/**
 * A page that records console errors and uncaught exceptions. `expect(re)`
 * marks messages a test provokes on purpose (e.g. the browser's own line for a 409).
 */
export async function openPage(browser, baseURL, viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL, viewport, locale: 'en-US' })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const errors = []
  const allowed = []
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text())
  })
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`))
  return {
    context,
    page,
    allow: (re) => allowed.push(re),
    unexpectedErrors: () => errors.filter((e) => !allowed.some((re) => re.test(e))),
  }
}

/** A page in UI language `lang`, signed in as `who` (null: signed out). */
export async function openAs(browser, baseURL, who, lang, viewport = DESKTOP) {
  const p = await openPage(browser, baseURL, viewport)
  await p.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
  if (who) await login(p.page, who)
  return p
}

export async function login(page, username) {
  await page.goto('/login')
  await page.locator('[data-test=username]').fill(username)
  await page.locator('[data-test=password]').fill('assetflow-demo')
  await page.locator('[data-test=login-submit]').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.locator('[data-test=connection][data-status=live]').waitFor()
}

/** Open an Element Plus select and click the visible option with `text`. */
export async function choose(page, select, text) {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

/** Sign in with the keyboard alone: the username field has focus on arrival, Tab leads to the password. */
export async function loginByKeyboard(page, username) {
  await page.goto('/login')
  await page.locator('[data-test=username]').waitFor()
  await page.keyboard.type(username)
  await page.keyboard.press('Tab')
  await page.keyboard.type('assetflow-demo')
  await page.keyboard.press('Enter')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.locator('[data-test=connection][data-status=live]').waitFor()
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // Let toasts and transitions settle so the picture shows the screen, not an animation.
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}
