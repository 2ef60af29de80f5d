// The real-time promise, end to end: real server, real browsers, no reloads.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, httpJson, startServer } from './server.js'
import { launchBrowser, login, openPage } from './browser.js'
import { bellCount, bellMatchesServer, eventually, freeAsset, toasts } from './helpers.js'

const STEP_MS = 60_000

/** Wait until the notifications screen shows the newest page the server has. */
async function inboxShown(page, api) {
  const { items } = await api.get('/api/notifications?limit=50')
  await eventually(
    async () => (await page.locator('[data-notification-id]').count()) === items.length,
    5000,
    'the inbox',
  )
}
let server
let browser
let alice
let bob
let aliceApi
let bobApi
const taken = new Set()

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    aliceApi = await apiAs(server.url, 'alice')
    bobApi = await apiAs(server.url, 'bob')
    alice = await openPage(browser, server.url)
    bob = await openPage(browser, server.url)
    await login(alice.page, 'alice')
    await login(bob.page, 'bob')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

describe('live approval flow', { timeout: 240_000 }, () => {
  it(
    'applicant submits, approver sees it live and approves, applicant sees it within 2 s',
    { timeout: STEP_MS },
    async () => {
      await bob.page.goto('/dashboard')
      // Loaded: the queue, or "Nothing is waiting for you." when it is empty.
      await bob.page.locator('[data-test=inbox], [data-test=empty]').first().waitFor()

      const asset = await freeAsset(aliceApi, taken)
      await alice.page.goto(`/requests/new?kind=assign&asset_id=${asset.id}`)
      await alice.page.locator('[data-test=asset]').filter({ hasText: asset.tag }).waitFor()
      await alice.page.locator('[data-test=reason]').fill('I need a monitor for the new desk')
      await alice.page.locator('[data-test=submit]').click()
      await alice.page.waitForURL(/\/requests\/\d+$/)
      const id = Number(new URL(alice.page.url()).pathname.split('/').pop())

      // The approver's queue shows the new request without a reload.
      await bob.page.locator(`[data-inbox-id="${id}"]`).waitFor({ timeout: 3000 })

      await alice.page.goto('/requests')
      await alice.page.locator(`[data-row-state="${id}"] [data-state=pending]`).waitFor()
      const before = await bellMatchesServer(alice.page, aliceApi)

      await bob.page.locator(`[data-approve="${id}"]`).click()
      await bob.page.locator('[data-test=decision-comment]').fill('Approved, enjoy')
      const clicked = Date.now()
      await bob.page.locator('[data-test=decision-confirm]').click()

      await alice.page.locator(`[data-row-state="${id}"] [data-state=approved]`).waitFor({ timeout: 2000 })
      await eventually(
        async () => (await bellCount(alice.page)) === before + 1,
        2000 - (Date.now() - clicked),
        'bell +1',
      )
      assert.ok(Date.now() - clicked <= 2000, 'badge and bell updated within 2 s')
      await toasts(alice.page, `#${id}`).filter({ hasText: 'Approved' }).first().waitFor({ timeout: 2000 })
      // The decided row leaves the approver's queue.
      await bob.page.locator(`[data-inbox-id="${id}"]`).waitFor({ state: 'detached', timeout: 3000 })
    },
  )

  it('submits an acquire through the form, after fixing what the form refused', { timeout: STEP_MS }, async () => {
    const page = alice.page
    await page.goto('/requests/new')
    await page.locator('[data-kind=acquire]').click()
    await page.locator('[data-test=name]').fill('Ergonomic chair')
    await page.locator('[data-test=category]').fill('Furniture')
    await page.locator('[data-test=value]').fill('12.345')
    await page.locator('[data-test=reason]').fill('Back pain')
    await page.locator('[data-test=submit]').click()
    // Three decimals are refused before anything is sent.
    await page.locator('.el-form-item__error', { hasText: 'at most 2 decimals' }).waitFor()
    await page.locator('[data-test=value]').fill('899.00')
    await page.locator('[data-test=submit]').click()
    await page.waitForURL(/\/requests\/\d+$/)
    await page.locator('h1', { hasText: 'Acquire' }).waitFor()
    await page.locator('[data-test=detail-state] [data-state=pending]').waitFor()
  })

  it('submits a transfer by picking the asset and the colleague', { timeout: STEP_MS }, async () => {
    // After the first test alice holds an asset: hand it to dave.
    const held = await aliceApi.get(`/api/assets?status=in_use&custodian_id=${aliceApi.user.id}`)
    const asset = held.items.find((a) => !a.locked)
    assert.ok(asset, 'alice holds an asset')
    const page = alice.page
    await page.goto('/requests/new')
    await page.locator('[data-kind=transfer]').click()
    await page.locator('[data-test=asset]').click()
    await page.keyboard.type(asset.tag)
    await page.locator('.el-select-dropdown__item:visible', { hasText: asset.tag }).click()
    await page.locator('[data-test=target]').click()
    await page.keyboard.type('dave')
    await page.locator('.el-select-dropdown__item:visible', { hasText: 'dave' }).click({ timeout: 5000 })
    await page.locator('[data-test=reason]').fill('Dave takes over this one')
    await page.locator('[data-test=submit]').click()
    await page.waitForURL(/\/requests\/\d+$/)
    await page.locator('h1', { hasText: 'Transfer' }).waitFor()
  })

  it('an offline applicant sees a decision made meanwhile exactly once', { timeout: STEP_MS }, async () => {
    const asset = await freeAsset(aliceApi, taken)
    const req = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'offline test' })
    await alice.page.goto('/notifications')
    await inboxShown(alice.page, aliceApi) // her own submission adds no row: nobody is told of their own action
    await bellMatchesServer(alice.page, aliceApi)
    const rowsBefore = await alice.page.locator('[data-notification-id]').count()

    // Connection failures while offline are the browser's own messages, expected here.
    alice.allow(/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/)
    await alice.context.setOffline(true)
    await alice.page.locator('[data-test=connection][data-status=offline]').waitFor({ timeout: 3000 })

    await bobApi.post(`/api/requests/${req.id}/approve`, { comment: 'while you were away' })
    await alice.page.waitForTimeout(1000)
    assert.equal(await toasts(alice.page, `#${req.id}`).filter({ hasText: 'Approved' }).count(), 0)

    await alice.context.setOffline(false)
    await alice.page.locator('[data-test=connection][data-status=live]').waitFor({ timeout: 10_000 })
    const approvedToast = toasts(alice.page, `#${req.id}`).filter({ hasText: 'Approved' })
    await approvedToast.first().waitFor({ timeout: 5000 })
    // Give any duplicate (replay + refetch) time to show up, then count.
    await alice.page.waitForTimeout(1500)
    assert.equal(await approvedToast.count(), 1, 'exactly one toast')
    assert.equal(await alice.page.locator('[data-notification-id]').count(), rowsBefore + 1, 'exactly one new row')
    assert.equal(await alice.page.locator(`[data-request-id="${req.id}"]`).filter({ hasText: 'Approved' }).count(), 1)
    await bellMatchesServer(alice.page, aliceApi)
  })

  it('survives a server restart: the decision arrives once and the count is right', { timeout: 90_000 }, async () => {
    const asset = await freeAsset(aliceApi, taken)
    const req = await aliceApi.post('/api/requests', { kind: 'repair', asset_id: asset.id, reason: 'restart test' })
    await inboxShown(alice.page, aliceApi)
    const rowsBefore = await alice.page.locator('[data-notification-id]').count()

    // A stopping server answers what reaches it in its last second 503 with Retry-After (docs/deploy.md).
    alice.allow(/WebSocket connection to .* failed|ERR_CONNECTION_(REFUSED|RESET)|status of 503/)
    bob.allow(/WebSocket connection to .* failed|ERR_CONNECTION_(REFUSED|RESET)|status of 503/)
    await server.halt()
    await alice.page.locator('[data-test=connection][data-status=reconnecting]').waitFor({ timeout: 5000 })
    await server.boot()
    await bobApi.post(`/api/requests/${req.id}/approve`, {})

    await alice.page.locator('[data-test=connection][data-status=live]').waitFor({ timeout: 25_000 })
    await alice.page.locator(`[data-request-id="${req.id}"]`).filter({ hasText: 'Approved' }).waitFor({ timeout: 5000 })
    await alice.page.waitForTimeout(1500)
    assert.equal(await alice.page.locator('[data-notification-id]').count(), rowsBefore + 1)
    assert.ok((await toasts(alice.page, `#${req.id}`).filter({ hasText: 'Approved' }).count()) <= 1)
    await bellMatchesServer(alice.page, aliceApi)
  })

  it('a second approver is told who decided first (409) instead of an error page', { timeout: STEP_MS }, async () => {
    // Erik and Bob both approve for Engineering, Alice's department.
    const erik = await openPage(browser, server.url)
    erik.allow(/status of 409/)
    await login(erik.page, 'erik')
    const asset = await freeAsset(aliceApi, taken)
    const req = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'race' })
    await erik.page.goto(`/requests/${req.id}`)
    await erik.page.locator('[data-test=detail-approve]').waitFor()
    // Let the reconnect's own refetch finish first: this test needs a page that is stale.
    await erik.page.locator('[data-test=connection][data-status=live]').waitFor()
    await erik.page.waitForTimeout(800)
    await bobApi.post(`/api/requests/${req.id}/approve`, {})

    await erik.page.locator('[data-test=detail-approve]').click()
    await erik.page.locator('[data-test=decision-confirm]').click()
    await erik.page.locator('.el-message', { hasText: `already decided by ${bobApi.user.display_name}` }).waitFor()
    await erik.page.locator('[data-test=detail-state] [data-state=approved]').waitFor()
    assert.deepEqual(erik.unexpectedErrors(), [])
    await erik.context.close()
  })

  it('bulk approve reports a result per request', { timeout: STEP_MS }, async () => {
    const ids = []
    for (let i = 0; i < 2; i += 1) {
      const asset = await freeAsset(aliceApi, taken)
      ids.push((await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: `bulk ${i}` })).id)
    }
    await bob.page.goto('/dashboard')
    await bob.page.locator('[data-test=connection][data-status=live]').waitFor()
    for (const id of ids) {
      const row = bob.page.locator('.el-table__row', { has: bob.page.locator(`[data-inbox-id="${id}"]`) })
      await row.locator('.el-checkbox').first().click()
    }
    // The selection survives the live refetches that happen meanwhile.
    await bob.page.waitForTimeout(600)
    await bob.page.locator('[data-test=bulk-approve][data-count="2"]').click()
    await bob.page.locator('[data-test=decision-confirm]').click()
    const results = bob.page.locator('[data-test=bulk-results]')
    await results.locator('.el-tag', { hasText: 'Approved' }).nth(1).waitFor()
    for (const id of ids) await bob.page.locator(`[data-inbox-id="${id}"]`).waitFor({ state: 'detached' })
  })

  it('a session revoked elsewhere ends here too: back to the login page', { timeout: STEP_MS }, async () => {
    const dave = await openPage(browser, server.url)
    // The refused refresh is the browser's own console line for a 401: provoked on purpose.
    dave.allow(/status of 401/)
    await login(dave.page, 'dave')
    const session = await dave.page.evaluate(() => JSON.parse(localStorage.getItem('assetflow.session')))
    // Log this very session out behind the page's back: both tokens revoked, its socket closed.
    const res = await httpJson('POST', `${server.url}/api/auth/logout`, {
      headers: { Authorization: `Bearer ${session.accessToken}` },
      body: { refresh_token: session.refreshToken },
    })
    assert.equal(res.status, 200)
    await dave.page.waitForURL(/\/login/, { timeout: 15_000 })
    await dave.page.locator('.el-alert', { hasText: 'session has expired' }).waitFor()
    assert.equal(await dave.page.evaluate(() => localStorage.getItem('assetflow.session')), null)
    assert.deepEqual(dave.unexpectedErrors(), [])
    await dave.context.close()
  })

  it('logged no unexpected console errors', () => {
    assert.deepEqual(alice.unexpectedErrors(), [])
    assert.deepEqual(bob.unexpectedErrors(), [])
  })
})
