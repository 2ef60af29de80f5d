// Issue 22 in the browser: a department's manager opens Reports, filters to their department and a date
// range, switches a chart to its table, downloads its CSV and sees a figure move live after an approval;
// axe finds nothing critical or serious at 1440 and 375 px.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'
import { eventually } from './helpers.js'

let server
let browser
let daveApi
let saraApi
let pending

// The browser's days are the reports' days (they send its time zone); the context runs in UTC here.
const today = new Date().toISOString().slice(0, 10)

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    daveApi = await apiAs(server.url, 'dave') // Sales, where Sara (the manager) decides small requests
    saraApi = await apiAs(server.url, 'sara')
    pending = await daveApi.post('/api/requests', {
      kind: 'acquire',
      reason: 'Demo kit',
      name: 'Headset',
      category: 'Peripheral',
      value: '80.00',
    })
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

async function choose(page, select, text) {
  await page.locator(select).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

async function pickDate(page, filter, value) {
  const input = page.locator(`[data-filter=${filter}] input`).first()
  await input.fill(value)
  await input.press('Enter')
}

const count = (page, key) => page.locator(`[data-count=${key}]`).textContent()

describe('reports', { timeout: 300_000 }, () => {
  it('a manager filters, reads a table, downloads its CSV and sees an approval arrive live', async () => {
    const { page, context, unexpectedErrors } = await openPage(browser, server.url, DESKTOP)
    await login(page, 'sara')
    await page.locator('[data-nav=reports]').click()
    await page.waitForURL(/\/reports/)
    await page.locator('[data-count=submitted]').waitFor()

    await choose(page, '[data-filter=department]', 'Sales')
    await pickDate(page, 'from', today)
    await pickDate(page, 'to', today)
    await eventually(
      () => {
        const url = new URL(page.url())
        return (
          url.searchParams.get('from') === today &&
          url.searchParams.get('to') === today &&
          url.searchParams.get('department_id')
        )
      },
      5000,
      'the filters in the URL',
    )
    await eventually(async () => (await count(page, 'submitted')) === '1', 5000, 'one request submitted today in Sales')
    assert.equal(await count(page, 'approved'), '0')

    await page.locator('[data-view=volume-table]').click()
    const table = page.locator('[data-table=volume]')
    await table.waitFor()
    assert.match(await table.textContent(), new RegExp(today))

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-csv=volume]').click()])
    assert.equal(download.suggestedFilename(), 'volume.csv')
    const csv = readFileSync(await download.path(), 'utf8')
    assert.match(csv, /Period,Submitted,Decided/)
    assert.match(csv, new RegExp(`${today},1,0`))

    // Sara approves on another device: her open Reports page refetches on the live event.
    await saraApi.post(`/api/requests/${pending.id}/approve`, { comment: 'ok' })
    await eventually(async () => (await count(page, 'approved')) === '1', 10_000, 'the approval to show live')
    assert.equal(await count(page, 'pending'), '0')
    assert.match(await page.locator('[data-table=volume]').textContent(), new RegExp(`${today}\\s*1\\s*1`))
    await screenshot(page, 'reports-desktop')
    assert.deepEqual(unexpectedErrors(), [])
    await context.close()
  })

  for (const [name, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ]) {
    it(`has no critical or serious axe violations at ${viewport.width} px`, async () => {
      const { page, context } = await openPage(browser, server.url, viewport)
      await login(page, 'sara')
      await page.goto('/reports')
      await page.locator('[data-count=submitted]').waitFor()
      await page.locator('[data-view=by-step-table]').click()
      // The toggle's colours fade for 0.3 s: axe measures the contrast of what is on screen, so after the fade.
      await page.waitForFunction(() => document.getAnimations().length === 0)
      assert.deepEqual(await seriousViolations(page), [])
      // Usable at 375 px: nothing wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`)
      await screenshot(page, `reports-${name}`)
      await context.close()
    })
  }

  it('a user who manages nothing has no Reports link and is told why on the page', async () => {
    const { page, context } = await openPage(browser, server.url, DESKTOP)
    await login(page, 'dave')
    assert.equal(await page.locator('[data-nav=reports]').count(), 0)
    await page.goto('/reports')
    await page.locator('[data-test=reports-forbidden]').waitFor()
    await context.close()
  })
})
