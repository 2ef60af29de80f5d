// Every main screen at 1440 and 375 px, in English and in Chinese: zero critical or serious
// axe-core violations (WCAG 2.1 AA + best practice), and a screenshot of each for a person.
// Also: focus and title on navigation, the page weight, and submit → approve by keyboard alone.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { REPO, apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, loginByKeyboard, openPage, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'
import { freeAsset } from './helpers.js'

const KB = 1000
const LIMIT_BYTES = 250 * KB

let server
let browser
let requestId
let assetId
let previewToken
let staleToken
const taken = new Set()

before(
  async () => {
    // The webhook receiver of these scenarios listens on loopback, which webhooks may reach only when allowed.
    server = await startServer({ env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' } })
    browser = await launchBrowser()
    const alice = await apiAs(server.url, 'alice')
    const bob = await apiAs(server.url, 'bob')
    const asset = await freeAsset(alice, taken)
    const a = await alice.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'For the design work' })
    // An e-mail link made before Bob decided: stale once he has.
    staleToken = server.emailLinkToken('bob', a.id, 'approve')
    await bob.post(`/api/requests/${a.id}/approve`, { comment: 'Fine by me' })
    // Something waiting on Bob's dashboard, with two steps (approver, then admin).
    const waiting = await alice.post('/api/requests', {
      kind: 'acquire',
      reason: 'Team laptop',
      name: 'ThinkPad X1',
      category: 'Laptop',
      value: '12800.00',
    })
    requestId = a.id
    assetId = asset.id
    previewToken = server.emailLinkToken('bob', waiting.id, 'approve')
    // A webhook whose receiver is unreachable: its log shows a failed call and the error.
    const admin = await apiAs(server.url, 'admin')
    const hook = await admin.post('/api/webhooks', {
      url: 'http://127.0.0.1:9/unreachable',
      events: ['request.approved'],
      secret: 'a11y-secret-0123456789',
    })
    await admin.post(`/api/webhooks/${hook.id}/ping`)
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

const emailLink = (token) => `/email-action?token=${encodeURIComponent(token)}`
const openLog = (page) => page.locator('[data-test=toggle-log]').first().click()

// [name, who, path, what shows the screen is ready, what to do first]
const SCREENS = [
  ['login', null, '/login', '[data-test=username]'],
  ['my-requests', 'alice', '/requests', '[data-request-id]'],
  ['submit-form', 'alice', '/requests/new?kind=acquire', '[data-test=submit-form]'],
  // The chain by name and the comment thread are part of the request page.
  ['request-detail', 'alice', () => `/requests/${requestId}`, '[data-test=timeline] [data-action=approve]'],
  ['assets', 'alice', '/assets', '[data-asset-id]'],
  ['my-assets', 'alice', '/my-assets', '[data-asset-id]'],
  ['asset-detail', 'alice', () => `/assets/${assetId}`, '[data-test=asset-history] a'],
  ['notifications', 'alice', '/notifications', '[data-notification-id]'],
  ['dashboard', 'bob', '/dashboard', '[data-inbox-id]'],
  ['delegations', 'bob', '/delegations', '[data-section=given]'],
  ['departments', 'admin', '/admin/departments', '[data-department-id]'],
  ['users', 'admin', '/admin/users', '[data-user-id]'],
  ['approval-rules', 'admin', '/admin/rules', '[data-rule]'],
  ['not-found', 'alice', '/no-such-page', '.el-result'],
  ['preferences', 'alice', '/preferences', '[data-test=preferences-form]'],
  ['webhooks', 'admin', '/admin/webhooks', '[data-test=delivery-call]', openLog],
  ['email-action', null, () => emailLink(previewToken), '[data-test=email-action]'],
  ['email-action-stale', null, () => emailLink(staleToken), '[data-test=link-problem]'],
]

for (const [width, viewport] of [
  ['1440', DESKTOP],
  ['375', PHONE],
]) {
  for (const lang of ['en', 'zh-CN']) {
    describe(`axe at ${width} px, ${lang}`, { timeout: 240_000 }, () => {
      const pages = {}

      before(async () => {
        for (const who of ['alice', 'bob', 'admin']) {
          pages[who] = await openPage(browser, server.url, viewport)
          await pages[who].page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
          await login(pages[who].page, who)
        }
        pages.anon = await openPage(browser, server.url, viewport)
        pages.anon.allow(/409/) // the stale e-mail link's preview: the browser logs the answer itself
        await pages.anon.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
      })

      after(async () => {
        for (const p of Object.values(pages)) await p.context.close()
      })

      for (const [name, who, path, ready, prepare] of SCREENS) {
        it(name, async () => {
          const { page, unexpectedErrors } = pages[who || 'anon']
          await page.goto(typeof path === 'function' ? path() : path)
          await prepare?.(page)
          await page.locator(ready).first().waitFor()
          assert.equal(await page.evaluate(() => document.documentElement.lang), lang)
          await screenshot(page, `${name}-${lang}-${width}`)
          assert.deepEqual(await seriousViolations(page), [])
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
          assert.deepEqual(unexpectedErrors(), [])
        })
      }
    })
  }
}

describe('navigation tells the user where they are', { timeout: 60_000 }, () => {
  it('moves focus to the new heading and changes document.title', async () => {
    const { page, context } = await openPage(browser, server.url)
    await login(page, 'alice')
    await page.goto('/requests')
    await page.locator('[data-request-id]').first().waitFor()
    assert.match(await page.title(), /^(\(\d+\) )?My requests · AssetFlow$/)
    await page.locator('.app-header a', { hasText: /^Assets$/ }).click()
    await page.waitForURL(/\/assets$/)
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1')
    assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Assets')
    assert.match(await page.title(), /^(\(\d+\) )?Assets · AssetFlow$/)
    await context.close()
  })

  it('shows the unread count in the tab title', async () => {
    // Opening her request page above read its notifications: Bob's rejection of another one gives her one more.
    const alice = await apiAs(server.url, 'alice')
    const asset = await freeAsset(alice, taken)
    const req = await alice.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'For the title' })
    await (await apiAs(server.url, 'bob')).post(`/api/requests/${req.id}/reject`, { comment: 'Not now' })
    const { page, context } = await openPage(browser, server.url)
    await login(page, 'alice')
    const { count } = await alice.get('/api/notifications/unread-count')
    assert.ok(count > 0)
    await page.waitForFunction((n) => document.title.startsWith(`(${n}) `), count)
    await context.close()
  })
})

describe('weight and caching', { timeout: 60_000 }, () => {
  it('keeps every JS file ≤ 250 kB gzipped', () => {
    const dir = join(REPO, 'frontend', 'dist', 'assets')
    const sizes = readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => [f, gzipSync(readFileSync(join(dir, f)), { level: 9 }).length])
      .sort((a, b) => b[1] - a[1])
    console.log(`largest JS gzipped: ${sizes[0][0]} ${(sizes[0][1] / KB).toFixed(1)} kB`)
    assert.ok(sizes[0][1] <= LIMIT_BYTES, `${sizes[0][0]} is ${sizes[0][1]} bytes gzipped`)
  })

  it('loads the login page cold in ≤ 250 kB, compressed, then from the cache', async () => {
    const { page, context } = await openPage(browser, server.url)
    const encodings = {}
    page.on('response', (r) => {
      if (r.url().includes('/assets/')) encodings[r.url()] = r.headers()
    })
    await page.goto('/login')
    await page.locator('[data-test=username]').waitFor()
    await page.waitForLoadState('networkidle')
    const cold = await page.evaluate(() =>
      [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => ({
        name: e.name,
        bytes: e.transferSize,
      })),
    )
    const total = cold.reduce((sum, e) => sum + e.bytes, 0)
    console.log(`login page, cold: ${cold.length} requests, ${(total / KB).toFixed(1)} kB transferred`)
    assert.ok(total <= LIMIT_BYTES, `cold login page transferred ${total} bytes`)
    const scripts = Object.entries(encodings).filter(([url]) => /\.(js|css)$/.test(url))
    assert.ok(scripts.length > 0)
    for (const [url, headers] of scripts) {
      // The build skips a file that compression would not shrink (a few bytes).
      if (!headers['content-encoding'] && Number(headers['content-length']) < 1024) continue
      assert.equal(
        headers['content-encoding'],
        'br',
        `${url} was sent ${headers['content-encoding'] || 'uncompressed'}`,
      )
    }

    // A second visit takes every hashed file from the browser's cache (immutable, no revalidation).
    await page.goto('about:blank')
    await page.goto('/login')
    await page.locator('[data-test=username]').waitFor()
    const warm = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/assets/'))
        .map((e) => e.transferSize),
    )
    assert.ok(warm.length > 0)
    assert.deepEqual(
      warm.filter((bytes) => bytes > 0),
      [],
    )
    await context.close()
  })
})

/** Press Tab until `test(activeElement)` holds (at most `max` times). */
async function tabTo(page, test, arg, max = 60) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate(test, arg)) return
    await page.keyboard.press('Tab')
  }
  assert.fail(`not reached by Tab: ${test.toString()} ${arg ?? ''}`)
}
const isTest = (name) =>
  document.activeElement?.closest?.(`[data-test="${name}"]`) != null || document.activeElement?.dataset?.test === name
const isLink = (text) => document.activeElement?.tagName === 'A' && document.activeElement.textContent.trim() === text

describe('keyboard alone', { timeout: 120_000 }, () => {
  it('submits a request as alice and approves it as bob', async () => {
    const asset = await freeAsset(await apiAs(server.url, 'alice'), taken)
    const alice = await openPage(browser, server.url)
    const { page } = alice
    await loginByKeyboard(page, 'alice')

    await tabTo(page, isLink, 'New request')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/requests\/new/)
    // Kind: the radio group takes the arrow keys; "assign" is the default.
    await tabTo(page, () => document.activeElement?.type === 'radio')
    assert.equal(await page.evaluate(() => document.activeElement.value), 'assign')
    await tabTo(page, isTest, 'asset')
    await page.keyboard.type(asset.tag)
    await page.locator('.el-select-dropdown__item', { hasText: asset.tag }).waitFor()
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('Enter')
    await tabTo(page, isTest, 'reason')
    await page.keyboard.type('Typed without a mouse')
    await tabTo(page, isTest, 'submit')
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/requests\/\d+$/)
    const id = Number(new URL(page.url()).pathname.split('/').pop())
    await page.locator('[data-test=detail-state] [data-state=pending]').waitFor()

    const bob = await openPage(browser, server.url)
    const b = bob.page
    await loginByKeyboard(b, 'bob')
    await tabTo(b, isLink, 'Dashboard')
    await b.keyboard.press('Enter')
    await b.locator(`[data-approve="${id}"]`).waitFor()
    await tabTo(b, (n) => document.activeElement?.dataset?.approve === String(n), id, 120)
    await b.keyboard.press('Enter')
    await b.locator('[data-test=decision-comment]').waitFor()
    await tabTo(b, isTest, 'decision-comment')
    await b.keyboard.type('Approved by keyboard')
    await tabTo(b, isTest, 'decision-confirm')
    await b.keyboard.press('Enter')
    await b.locator(`[data-approve="${id}"]`).waitFor({ state: 'detached' })

    await page.locator('[data-test=detail-state] [data-state=approved]').waitFor({ timeout: 5000 })
    assert.deepEqual(alice.unexpectedErrors(), [])
    assert.deepEqual(bob.unexpectedErrors(), [])
    await alice.context.close()
    await bob.context.close()
  })
})
