// A long queue: 250 waiting requests. The approver pages to the last one, the list state
// survives reload and back, a search finds one request, and one bulk approval takes a
// filter across every page with a result per request. Also My assets and the custody history.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { launchBrowser, login, openPage } from './browser.js'
import { eventually, freeAsset } from './helpers.js'

const COUNT = Number(process.env.LISTS_COUNT || 250)
let server
let browser
let bob
let aliceApi
let bobApi
const ids = []

before(async () => {
  server = await startServer()
  browser = await launchBrowser()
  aliceApi = await apiAs(server.url, 'alice')
  bobApi = await apiAs(server.url, 'bob')
  // Acquire requests need no asset, so 250 can wait at once; five at a time (ids then sorted).
  for (let start = 0; start < COUNT; start += 5) {
    const batch = []
    for (let i = start; i < Math.min(start + 5, COUNT); i += 1) {
      const reason = `batch item ${String(i).padStart(4, '0')}`
      batch.push(aliceApi.post('/api/requests', { kind: 'acquire', reason, name: `Chair ${i}`, category: 'Furniture', value: '120.00' }))
    }
    for (const created of await Promise.all(batch)) ids.push(created)
  }
  ids.sort((a, b) => a.id - b.id)
  bob = await openPage(browser, server.url)
  await login(bob.page, 'bob')
}, { timeout: 240_000 })

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

const pagerTotal = (page) => page.locator('[data-test=pager]').getAttribute('data-total').then(Number)

describe('the approver queue at 250 requests', { timeout: 240_000 }, () => {
  it('pages to the last request; reload and back keep the list state', async () => {
    const { page } = bob
    await page.goto('/dashboard')
    await page.locator(`[data-inbox-id="${ids[0].id}"]`).waitFor()
    assert.equal(await pagerTotal(page), COUNT)
    // Oldest first: the newest request is the last row of the last page (250 / 20 = 13 pages).
    await page.locator('[data-test=pager] .el-pager li', { hasText: /^13$/ }).click()
    await page.waitForURL(/page=13/)
    await page.locator(`[data-inbox-id="${ids[COUNT - 1].id}"]`).waitFor()
    await page.reload()
    await page.locator(`[data-inbox-id="${ids[COUNT - 1].id}"]`).waitFor()
    assert.equal(await page.locator('[data-inbox-id]').count(), COUNT - 12 * 20)
    await page.goBack()
    await page.waitForURL((u) => !u.search.includes('page='))
    await page.locator(`[data-inbox-id="${ids[0].id}"]`).waitFor()
    // The row carries what an approver decides on: reason, value, age.
    const first = page.locator('.el-table__row', { has: page.locator(`[data-inbox-id="${ids[0].id}"]`) })
    await first.locator(`[data-reason="${ids[0].id}"]`, { hasText: ids[0].reason }).waitFor()
    await first.getByText('120.00').first().waitFor()
  })

  it('a search finds one request and lives in the URL', async () => {
    const { page } = bob
    const newest = ids[COUNT - 1].reason.replace('batch ', '') // e.g. "item 0247": unique
    await page.locator('[data-test=list-search]').fill(newest)
    await page.waitForURL(/q=item/)
    await eventually(async () => (await pagerTotal(page)) === 1, 5000, 'one match')
    await page.locator(`[data-inbox-id="${ids[COUNT - 1].id}"]`).waitFor()
    await page.reload()
    assert.equal(await page.locator('[data-test=list-search]').inputValue(), newest)
    await page.locator(`[data-inbox-id="${ids[COUNT - 1].id}"]`).waitFor()
  })

  it('approves every request matching a filter, across all pages, with a result each', async () => {
    const { page } = bob
    await page.goto('/dashboard?q=batch+item')
    await page.locator(`[data-test=approve-matching][data-count="${COUNT}"]`).click()
    await page.locator('[data-test=decision-confirm]').click()
    const results = page.locator('[data-test=bulk-results]')
    await results.waitFor({ timeout: 120_000 })
    const inbox = await bobApi.get('/api/requests?scope=inbox&q=batch+item')
    assert.equal(inbox.total, 0)
    const approved = await bobApi.get('/api/requests?scope=all&state=approved&kind=acquire&per_page=1')
    assert.equal(approved.total, COUNT)
    await results.locator('.el-table__row').nth(COUNT - 1).waitFor({ state: 'attached' })
    assert.equal(await results.locator('.el-table__row').count(), COUNT)
  })
})

describe('the notifications screen, searched on the server', { timeout: 60_000 }, () => {
  it('finds one notification among 250+ by request id, kept in the URL, and pages the filtered list', async () => {
    const { page } = bob
    const target = ids[100]
    await page.goto(`/notifications?q=${target.id}`)
    await page.locator(`[data-test=notification-list] li[data-request-id="${target.id}"]`).first().waitFor()
    const expected = await bobApi.get(`/api/notifications?page=1&q=${target.id}`)
    assert.equal(await page.locator('[data-test=notification-list] li').count(), expected.items.length)
    assert.ok(expected.total >= 1 && expected.total < COUNT)
    // Filtered to the acquire submissions he heard of: more than one page, with a pager.
    await page.goto('/notifications?status=pending&page=2')
    await eventually(async () => Number(await page.locator('[data-test=pager]').getAttribute('data-total')) >= COUNT, 5000, 'the filtered total')
    assert.equal(await page.locator('[data-test=notification-list] li').count(), 20)
    assert.equal(await page.locator('[data-test=load-older]').count(), 0)
  })
})

describe('my assets and custody history', { timeout: 120_000 }, () => {
  it('an employee sees what they hold, and each asset shows who held it', async () => {
    const alice = await openPage(browser, server.url)
    await login(alice.page, 'alice')
    const asset = await freeAsset(aliceApi, new Set())
    const req = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'custody' })
    await bobApi.post(`/api/requests/${req.id}/approve`, {})
    await alice.page.goto('/my-assets')
    // She holds the 250 chairs approved above and this one: the pager says so.
    const held = await aliceApi.get('/api/assets?mine=true&per_page=1')
    await eventually(async () => Number(await alice.page.locator('[data-test=asset-pager]').getAttribute('data-total')) === held.total, 5000, 'the total of what she holds')
    assert.ok(held.total > COUNT, `she holds ${held.total}`)
    await alice.page.locator('[data-test=asset-search]').fill(asset.tag)
    await alice.page.waitForURL(/q=/)
    await alice.page.locator(`[data-asset-id="${asset.id}"]`).waitFor()
    await alice.page.locator(`[data-asset-id="${asset.id}"]`).click()
    const history = alice.page.locator('[data-test=custody-history]')
    await history.locator('[data-custody=request]', { hasText: `#${req.id}` }).waitFor()
    await history.getByText('Alice Chen').first().waitFor()
    assert.deepEqual(alice.unexpectedErrors(), [])
  })
})
