// Every main screen at desktop and phone width: it renders, it is usable, it
// logs no console errors, and a screenshot is left for a person to look at.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startServer, apiAs } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, loginByKeyboard, openPage, screenshot } from './browser.js'
import { freeAsset, toasts } from './helpers.js'

let server
let browser
let requestId
let assetId
let aliceApi
let bobApi
const taken = new Set()

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    // Some history, so the screens show real content.
    const alice = (aliceApi = await apiAs(server.url, 'alice'))
    const bob = (bobApi = await apiAs(server.url, 'bob'))
    const first = await freeAsset(alice, taken)
    const second = await freeAsset(alice, taken)
    const a = await alice.post('/api/requests', {
      kind: 'assign',
      asset_id: first.id,
      reason: 'A second screen for the design work',
    })
    await bob.post(`/api/requests/${a.id}/approve`, { comment: 'Fine by me' })
    const b = await alice.post('/api/requests', { kind: 'repair', asset_id: second.id, reason: 'The hinge is loose' })
    await alice.post('/api/requests', {
      kind: 'acquire',
      reason: 'Team laptop',
      name: 'ThinkPad X1',
      category: 'Laptop',
      value: '9800.00',
      currency: 'CNY',
    })
    requestId = a.id
    assetId = first.id
    assert.ok(b.id)
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

for (const [label, viewport] of [
  ['1440', DESKTOP],
  ['375', PHONE],
]) {
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
      assert.ok(
        (await alice.page.locator('.el-form-item__error').count()) >= 4,
        'reason, name, category, value are required',
      )
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
      await alice.page.waitForFunction((n) => document.querySelectorAll('[data-asset-id]').length < n, all, {
        timeout: 5000,
      })
    })

    it('asset detail with its request history', async () => {
      await alice.page.goto(`/assets/${assetId}`)
      await alice.page.locator('[data-test=asset-history] a', { hasText: `#${requestId}` }).waitFor()
      await screenshot(alice.page, `asset-detail-${label}`)
    })

    it('notifications, mark read and mark all read', async () => {
      // Two fresh unread notifications for alice, live while she looks: Bob's rejections of two of
      // her requests (her own submissions notify only the approvers).
      await alice.page.goto('/notifications')
      await alice.page.locator('[data-notification-id], [data-test=empty]').first().waitFor()
      let req
      for (const reason of ['Spare one', 'Spare two']) {
        const asset = await freeAsset(aliceApi, taken)
        req = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason })
        await bobApi.post(`/api/requests/${req.id}/reject`, { comment: 'None left for this team' })
      }
      // The toast keeps clear of the header and the page's head: at the bottom (e2e/shell.test.js measures more).
      await toasts(alice.page, `#${req.id}`).filter({ hasText: 'Rejected' }).waitFor()
      const header = await alice.page.locator('.app-header').boundingBox()
      for (const toast of await toasts(alice.page, `#${req.id}`).all()) {
        const box = await toast.boundingBox()
        assert.ok(box.y >= header.y + header.height, `toast at ${box.y} covers the header`)
        assert.ok(box.y + box.height <= viewport.height, 'toast on screen')
        if (viewport === PHONE) assert.ok(box.y > viewport.height / 2, 'toast at the bottom on a phone')
      }
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
      if (viewport === PHONE) {
        // One card per request, each within the screen (no squeezed table), and the queue starts above the fold.
        assert.equal(await bob.page.locator('[data-test=inbox] .el-table').count(), 0)
        const boxes = await bob.page
          .locator('[data-test=inbox] [data-card]')
          .evaluateAll((cards) => cards.map((card) => card.getBoundingClientRect().toJSON()))
        assert.ok(boxes.length > 0)
        for (const box of boxes) assert.ok(box.left >= 0 && box.right <= PHONE.width, `a card overflows: ${box.right}`)
        const first = await bob.page.locator('[data-inbox-id]').first().boundingBox()
        assert.ok(first.y + first.height <= PHONE.height, `the first waiting request is below the fold (${first.y})`)
        // Kinds such as "Transfer" stay whole words.
        const broken = await bob.page.$$eval('[data-test=inbox] .nowrap', (els) =>
          els
            .filter((e) => e.getClientRects().length > 1 || e.scrollWidth > e.clientWidth + 1)
            .map((e) => e.textContent),
        )
        assert.deepEqual(broken, [])
      }
    })

    it('an employee who opens the dashboard is told it is not for her', async () => {
      await alice.page.goto('/dashboard')
      await alice.page.locator('[data-test=forbidden] h1', { hasText: 'Not allowed' }).waitFor()
      assert.equal(new URL(alice.page.url()).pathname, '/dashboard')
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
      await alice.page.locator(viewport === PHONE ? '[data-test=menu]' : '[data-test=user-menu]').click()
      await alice.page.locator('.el-dropdown-menu__item[data-test=logout]:visible', { hasText: 'Log out' }).click()
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

describe('admin registers and edits assets', { timeout: 120_000 }, () => {
  const tag = `E2E-${Date.now().toString(36)}`

  /** Open the "New asset" dialog on the assets list and wait for it. */
  async function openNewAsset(page) {
    await page.goto('/assets')
    await page.locator('[data-asset-id]').first().waitFor()
    await page.locator('[data-test=asset-new]').click()
    await page.locator('[data-test=asset-dialog]').waitFor()
  }

  async function fillAsset(page, fields) {
    for (const [field, value] of Object.entries(fields)) await page.locator(`[data-test=asset-${field}]`).fill(value)
  }

  it('creates an asset, finds it, renames it, closes a repair, and is told a tag is taken', async () => {
    const admin = await openPage(browser, server.url, DESKTOP)
    const { page } = admin
    await login(page, 'admin')
    await openNewAsset(page)
    const dialog = page.locator('[data-test=asset-dialog]')
    await page.locator('[data-test=asset-save]').click()
    await dialog.locator('.el-form-item__error').first().waitFor()
    assert.equal(await dialog.locator('.el-form-item__error').count(), 4, 'tag, name, category, value are required')
    await fillAsset(page, {
      tag,
      name: 'Standing desk',
      'category-input': 'Furniture',
      value: '1299.5',
      location: 'Floor 3',
    })
    await screenshot(page, 'asset-dialog-1440')
    await page.locator('[data-test=asset-save]').click()
    await dialog.waitFor({ state: 'hidden' })

    // The list was reloaded; the new asset is found by its tag.
    await page.locator('[data-test=asset-search]').fill(tag)
    const link = page.locator('[data-asset-id]', { hasText: tag })
    await link.waitFor()
    await link.click()
    await page.locator('h1', { hasText: `${tag} — Standing desk` }).waitFor()
    await page.locator('[data-test=asset-edit]').click()
    await page.locator('[data-test=asset-name]').fill('Standing desk, oak')
    await page.locator('[data-test=asset-save]').click()
    await page.locator('h1', { hasText: `${tag} — Standing desk, oak` }).waitFor()

    // Close a repair: an asset of the demo data that is in repair with no request pending.
    const adminApi = await apiAs(server.url, 'admin')
    const { items } = await adminApi.get('/api/assets?status=in_repair&per_page=100')
    const broken = items.find((a) => !a.locked)
    assert.ok(broken, 'the demo data has an unlocked asset in repair')
    await page.goto(`/assets/${broken.id}`)
    await page.locator('[data-test=asset-edit]').click()
    await page.locator('[data-test=asset-close-repair]').click()
    await page.locator('[data-test=asset-save]').click()
    await page.locator('.page-head [data-status=in_stock]').waitFor()

    // A tag that is taken: the server's 409 becomes a message under the tag.
    admin.allow(/status of 409/)
    await openNewAsset(page)
    await fillAsset(page, { tag, name: 'Another desk', 'category-input': 'Furniture', value: '10' })
    await page.locator('[data-test=asset-save]').click()
    await dialog
      .locator('[data-field=tag] .el-form-item__error', { hasText: `The tag ${tag} is already in use` })
      .waitFor()
    assert.ok(await dialog.isVisible(), 'the dialog stays open')
    assert.deepEqual(admin.unexpectedErrors(), [])
    await admin.context.close()
  })

  it('at 375 px, by keyboard: opens the dialog, checks a bad tag, closes with Escape', async () => {
    const admin = await openPage(browser, server.url, PHONE)
    const { page } = admin
    await login(page, 'admin')
    await page.goto('/assets')
    await page.locator('[data-asset-id]').first().waitFor()
    await page.locator('[data-test=asset-new]').focus()
    await page.keyboard.press('Enter')
    const dialog = page.locator('[data-test=asset-dialog]')
    await dialog.waitFor()
    let onTag = false
    for (let i = 0; i < 5 && !onTag; i += 1) {
      await page.keyboard.press('Tab')
      onTag = await page.evaluate(() => document.activeElement?.dataset.test === 'asset-tag')
    }
    assert.ok(onTag, 'the tag field is reachable by Tab')
    await page.keyboard.type('bad tag')
    await page.keyboard.press('Enter')
    await dialog.locator('[data-field=tag] .el-form-item__error', { hasText: 'Letters, digits' }).waitFor()
    await screenshot(page, 'asset-dialog-375')
    const box = await dialog.boundingBox()
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `the dialog fits the screen (${JSON.stringify(box)})`)
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
    assert.deepEqual(admin.unexpectedErrors(), [])
    await admin.context.close()
  })
})

describe('keyboard', { timeout: 60_000 }, () => {
  it('signs in and reaches the navigation with the keyboard alone', async () => {
    const k = await openPage(browser, server.url)
    await loginByKeyboard(k.page, 'alice')
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
