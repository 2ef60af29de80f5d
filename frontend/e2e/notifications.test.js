// Paging back through a long inbox against the real backend (`before_seq`), by keyboard.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { launchBrowser, login, openPage } from './browser.js'
import { bellMatchesServer, eventually } from './helpers.js'

let server
let browser
let dave
let daveApi
let saraApi

const submit = (api, n) =>
  api.post('/api/requests', {
    kind: 'acquire',
    reason: `Spare keyboard ${n}`,
    name: `Keyboard ${n}`,
    category: 'Peripheral',
    value: '199.00',
    currency: 'CNY',
  })

// Nobody is notified of their own action: Dave hears of Sara's decision on his request (the
// demo company's Sales requests go to Sara, the manager, first).
async function decided(n) {
  const req = await submit(daveApi, n)
  await saraApi.post(`/api/requests/${req.id}/reject`, { comment: `not now ${n}` })
  return req
}

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    daveApi = await apiAs(server.url, 'dave')
    saraApi = await apiAs(server.url, 'sara')
    // Each decision is one notification for the applicant: more than two pages' worth.
    for (let n = 1; n <= 110; n++) await decided(n)
    dave = await openPage(browser, server.url)
    await login(dave.page, 'dave')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

describe('notifications inbox', { timeout: 120_000 }, () => {
  it('"Load older" pages back to the first notification, then a live one lands on top once', async () => {
    const { page } = dave
    const { last_seq: total } = await daveApi.get('/api/notifications?limit=1')
    assert.ok(total > 100, `dave has ${total} notifications`)

    await page.goto('/notifications')
    const rows = page.locator('[data-test=notification-list] li')
    const button = page.locator('[data-test=load-older]')
    await eventually(async () => (await rows.count()) === 50, 5000, 'the newest page')

    // Keyboard only: focus the button once, then Enter until every notification is shown.
    await eventually(() => button.isEnabled(), 5000, 'no refetch in flight')
    await button.focus()
    let shown = 50
    while (shown < total) {
      await page.keyboard.press('Enter')
      const expected = Math.min(total, shown + 50)
      await eventually(async () => (await rows.count()) === expected, 5000, `${expected} rows`)
      shown = expected
      if (shown < total) {
        await eventually(
          () => button.evaluate((el) => !el.disabled && el === document.activeElement),
          5000,
          'focus kept',
        )
      }
    }
    await button.waitFor({ state: 'detached' })
    const ids = await rows.evaluateAll((els) => els.map((el) => Number(el.dataset.notificationId)))
    assert.equal(new Set(ids).size, total, 'no row twice')
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      'newest first',
    )

    // A live notification after paging: on top, once; the older rows stay; the bell matches the server.
    const req = await decided('live')
    await page
      .locator(`[data-test=notification-list] li:first-child[data-request-id="${req.id}"]`)
      .waitFor({ timeout: 3000 })
    await eventually(async () => (await rows.count()) === total + 1, 3000, 'one more row')
    assert.equal(await page.locator(`[data-test=notification-list] li[data-request-id="${req.id}"]`).count(), 1)
    await bellMatchesServer(page, daveApi)

    // Coming back to the screen (in the app, no reload) refetches the newest page only and keeps
    // everything loaded.
    await page.locator('[data-test=mark-all]').click()
    await eventually(
      async () => (await page.locator('[data-test=notification-list] li.unread').count()) === 0,
      3000,
      'all read',
    )
    await page.locator('header a[href="/requests"]').first().click()
    await page.waitForURL(/\/requests$/)
    const asked = []
    page.on('request', (r) => {
      const u = new URL(r.url())
      if (u.pathname === '/api/notifications') asked.push(u.search)
    })
    await page.locator('header [data-test=bell]').click()
    await page.waitForURL(/\/notifications$/)
    await eventually(async () => asked.length === 1 && !(await button.count()), 3000, 'one refetch')
    assert.deepEqual(asked, ['?limit=50'])
    await eventually(async () => (await rows.count()) === total + 1, 3000, 'rows kept')
    assert.equal(await bellMatchesServer(page, daveApi), 0)

    assert.deepEqual(dave.unexpectedErrors(), [])
  })
})
