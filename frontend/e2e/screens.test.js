// Every main screen at desktop and phone width: it renders, it is usable, it
// logs no console errors, and a screenshot is left for a person to look at.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startServer, apiAs } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { freeAsset } from './helpers.js'

let server
let browser
let requestId
let assetId
let aliceApi
let bobApi
const taken = new Set()

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  // Some history, so the screens show real content.
  const alice = (aliceApi = await apiAs(server.url, 'alice'))
  const bob = (bobApi = await apiAs(server.url, 'bob'))
  const first = await freeAsset(alice, taken)
  const second = await freeAsset(alice, taken)
  const a = await alice.post('/api/requests', { kind: 'assign', asset_id: first.id, reason: 'A second screen for the design work' })
  await bob.post(`/api/requests/${a.id}/approve`, { comment: 'Fine by me' })
  const b = await alice.post('/api/requests', { kind: 'repair', asset_id: second.id, reason: 'The hinge is loose' })
  await alice.post('/api/requests', { kind: 'acquire', reason: 'Team laptop', name: 'ThinkPad X1', category: 'Laptop', value: '9800.00', currency: 'CNY' })
  requestId = a.id
  assetId = first.id
  assert.ok(b.id)
}, { timeout: 180_000 })

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

for (const [label, viewport] of [['1440', DESKTOP], ['375', PHONE]]) {
  describe(`screens at ${label} px`, { timeout: 180_000 }, () => {
    let alice
    let bob

    it('login', async () => {
      alice = await openPage(browser, server.url, viewport)
      await alice.page.goto('/login')
      await alice.page.locator('[data-test=username]').waitFor()
      await screenshot(alice.page, `login-${label}`)
      await login(alice.page, 'alice')
    })

    it('my requests', async () => {
      await alice.page.goto('/requests')
      await alice.page.locator(`[data-row-state="${requestId}"] [data-state=approved]`).waitFor()
      await screenshot(alice.page, `my-requests-${label}`)
    })

    it('submit form, with client-side validation', async () => {
      await alice.page.goto('/requests/new?kind=acquire')
      await alice.page.locator('[data-test=submit]').click()
      await alice.page.locator('.el-form-item__error').first().waitFor()
      assert.ok((await alice.page.locator('.el-form-item__error').count()) >= 4, 'reason, name, category, value are required')
      assert.match(alice.page.url(), /\/requests\/new/)
      await screenshot(alice.page, `submit-form-${label}`)
    })

    it('request detail with its timeline', async () => {
      await alice.page.goto(`/requests/${requestId}`)
      await alice.page.locator('[data-test=timeline] [data-action=approve]').waitFor()
      await screenshot(alice.page, `request-detail-${label}`)
    })

    it('assets, filtered and paginated', async () => {
      await alice.page.goto('/assets')
      await alice.page.locator('[data-asset-id]').first().waitFor()
      const all = await alice.page.locator('[data-asset-id]').count()
      assert.ok(all >= 10)
      await screenshot(alice.page, `assets-${label}`)
      await alice.page.locator('[data-test=asset-search]').fill('AST-00100')
      await alice.page.waitForFunction(
        (n) => document.querySelectorAll('[data-asset-id]').length < n,
        all,
        { timeout: 5000 },
      )
    })

    it('asset detail with its request history', async () => {
      await alice.page.goto(`/assets/${assetId}`)
      await alice.page.locator('[data-test=asset-history] a', { hasText: `#${requestId}` }).waitFor()
      await screenshot(alice.page, `asset-detail-${label}`)
    })

    it('notifications, mark read and mark all read', async () => {
      // Two fresh unread notifications for alice: her submission and its rejection.
      const asset = await freeAsset(aliceApi, taken)
      const req = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'Spare one' })
      await bobApi.post(`/api/requests/${req.id}/reject`, { comment: 'None left for this team' })
      await alice.page.goto('/notifications')
      await alice.page.locator(`[data-request-id="${req.id}"]`, { hasText: 'Rejected' }).waitFor()
      await alice.page.locator('[data-notification-id]').first().waitFor()
      await screenshot(alice.page, `notifications-${label}`)
      const unread = Number(await alice.page.locator('[data-test=bell]').getAttribute('data-count'))
      assert.ok(unread >= 2)
      await alice.page.locator('[data-test=mark-read]').first().click()
      await alice.page.locator(`[data-test=bell][data-count="${unread - 1}"]`).waitFor()
      await alice.page.locator('[data-test=mark-all]').click()
      await alice.page.locator('[data-test=bell][data-count="0"]').waitFor()
    })

    it('dashboard for an approver', async () => {
      bob = await openPage(browser, server.url, viewport)
      await login(bob.page, 'bob')
      await bob.page.goto('/dashboard')
      await bob.page.locator('[data-inbox-id]').first().waitFor()
      await bob.page.locator('[data-test=stats] [data-state=approved] .num').filter({ hasText: /[1-9]/ }).waitFor()
      await screenshot(bob.page, `dashboard-${label}`)
    })

    it('an employee cannot open the dashboard', async () => {
      await alice.page.goto('/dashboard')
      await alice.page.waitForURL(/\/requests$/)
    })

    it('switches to Simplified Chinese and remembers it', async () => {
      await alice.page.goto('/requests')
      await alice.page.evaluate(() => localStorage.setItem('assetflow.locale', '"zh-CN"'))
      await alice.page.reload()
      await alice.page.locator('h1', { hasText: '我的申请' }).waitFor()
      await screenshot(alice.page, `my-requests-zh-${label}`)
      await alice.page.evaluate(() => localStorage.setItem('assetflow.locale', '"en"'))
    })

    it('logs out', async () => {
      await alice.page.goto('/requests')
      if (viewport === PHONE) {
        await alice.page.locator('[data-test=menu]').click()
        await alice.page.locator('.el-dropdown-menu__item', { hasText: 'Log out' }).click()
      } else {
        await alice.page.locator('[data-test=logout]').click()
      }
      await alice.page.waitForURL(/\/login/)
    })

    it('no console errors and nothing wider than the screen', async () => {
      for (const who of [alice, bob]) {
        const overflow = await who.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
        assert.deepEqual(who.unexpectedErrors(), [])
        await who.context.close()
      }
    })
  })
}

describe('keyboard', { timeout: 60_000 }, () => {
  it('signs in and reaches the navigation with the keyboard alone', async () => {
    const k = await openPage(browser, server.url)
    await k.page.goto('/login')
    await k.page.locator('[data-test=username]').waitFor()
    // The username field has focus on arrival; Tab moves on to the password.
    await k.page.keyboard.type('alice')
    await k.page.keyboard.press('Tab')
    await k.page.keyboard.type('assetflow-demo')
    await k.page.keyboard.press('Enter')
    await k.page.waitForURL(/\/requests/)
    await k.page.locator('[data-test=connection][data-status=live]').waitFor()
    // On a fresh page load the first Tab stop is the skip link.
    await k.page.goto('/requests')
    await k.page.keyboard.press('Tab')
    const first = await k.page.evaluate(() => document.activeElement?.textContent?.trim())
    assert.equal(first, 'Skip to content')
    let reached = false
    for (let i = 0; i < 40 && !reached; i += 1) {
      await k.page.keyboard.press('Tab')
      reached = await k.page.evaluate(() => document.activeElement?.textContent?.trim() === 'Assets')
    }
    assert.ok(reached, 'the Assets link is reachable by Tab')
    await k.page.keyboard.press('Enter')
    await k.page.waitForURL(/\/assets$/)
    assert.deepEqual(k.unexpectedErrors(), [])
    await k.context.close()
  })
})
