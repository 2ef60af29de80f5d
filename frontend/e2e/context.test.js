// Deciding with the context in view, in a real browser against the real server: the dashboard shows each
// request's asset, value, applicant, reason, files and due time (a table at 1440 px, cards at 375 px), sorts and
// filters by due time; the approve dialog and the request page show the same; opening a request reads its
// notifications in every tab of the user; a notification says what happened. English and Chinese; axe on each.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { seriousViolations } from './a11y.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { bellCount, eventually, freeAsset } from './helpers.js'
import { apiAs, startServer } from './server.js'

const TEXT = {
  en: {
    due: /^Due in \d+ hours$/,
    overdue: /^Overdue \(due .+\)$/,
    advanced: 'Bob Wang approved step 1 of 2 — waiting for Ada Admin',
  },
  'zh-CN': {
    due: /^\d+小时后到期$/,
    overdue: /^已逾期（.+到期）$/,
    advanced: 'Bob Wang 批准了第 1/2 步 — 等待Ada Admin审批',
  },
}
// A repair waits for any approver and is due 2 s after it is submitted: it is overdue by the time a page shows it.
const DUE_SOON = { decider: 'role', role: 'approver', scope: 'company', remind_after_hours: 0.0005 }

let server
let browser
let alice
let bob
let waiting // due in a day (the demo rules' reminder after 24 h)
let overdue // past its due time
const taken = new Set()

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    alice = await apiAs(server.url, 'alice')
    bob = await apiAs(server.url, 'bob')
    const admin = await apiAs(server.url, 'admin')
    const { items } = await admin.get('/api/approval-rules')
    await admin.put('/api/approval-rules', { items: [{ match: { kinds: ['repair'] }, steps: [DUE_SOON] }, ...items] })
    const screen = await freeAsset(alice, taken)
    waiting = await alice.post('/api/requests', {
      kind: 'assign',
      asset_id: screen.id,
      reason: 'A second screen for the design work',
    })
    overdue = await alice.post('/api/requests', {
      kind: 'repair',
      asset_id: (await freeAsset(alice, taken)).id,
      reason: 'The hinge is loose and the lid falls shut',
    })
    await eventually(
      async () => (await bob.get(`/api/requests/${overdue.id}`)).overdue,
      10_000,
      'the repair to be overdue',
    )
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

async function openAs(username, viewport, lang) {
  const tab = await openPage(browser, server.url, viewport)
  await tab.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
  await login(tab.page, username)
  return tab
}

/** Axe finds nothing critical or serious, and nothing is wider than the screen. */
async function accessibleAndFits(page) {
  assert.deepEqual(await seriousViolations(page), [])
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
}

/** The context block's fields as text. */
async function contextOf(block) {
  const fields = {}
  for (const name of ['asset', 'value', 'applicant', 'reason', 'attachments', 'due']) {
    fields[name] = (await block.locator(`[data-field=${name}]`).innerText()).trim()
  }
  return fields
}

function assertContext(fields, req, lang, due) {
  assert.equal(fields.asset, `${req.asset.name} · ${req.asset.tag}`)
  assert.match(fields.value, /3,?\d{3}|\d/)
  assert.equal(fields.applicant, 'Alice Chen · Engineering')
  assert.equal(fields.reason, req.reason)
  assert.equal(fields.attachments, lang === 'en' ? 'none' : '无')
  assert.match(fields.due, TEXT[lang][due])
}

for (const lang of ['en', 'zh-CN']) {
  for (const [width, viewport] of [
    ['1440', DESKTOP],
    ['375', PHONE],
  ]) {
    describe(`decision context at ${width} px, ${lang}`, { timeout: 180_000 }, () => {
      let tab

      before(async () => {
        tab = await openAs('bob', viewport, lang)
      })
      after(async () => tab?.context.close())

      it('the dashboard shows each request’s context and due time, and sorts and filters by it', async () => {
        const { page } = tab
        await page.goto('/dashboard?sort=due')
        await page.locator(`[data-inbox-id="${overdue.id}"]`).waitFor()
        await page.locator(`[data-inbox-id="${waiting.id}"]`).waitFor()
        const order = await page.locator('[data-inbox-id]').evaluateAll((links) => links.map((a) => a.dataset.inboxId))
        assert.equal(order[0], String(overdue.id), 'the overdue request comes first')
        if (viewport === PHONE) {
          assert.equal(await page.locator('[data-test=inbox] .el-table').count(), 0, 'cards, not a table')
          for (const [req, due] of [
            [waiting, 'due'],
            [overdue, 'overdue'],
          ]) {
            const card = page.locator(`[data-card="${req.id}"]`)
            assertContext(await contextOf(card.locator('[data-test=decision-context]')), req, lang, due)
            const box = await card.boundingBox()
            assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `card ${req.id} fits the screen`)
          }
        } else {
          const row = page.locator('.el-table__row', { has: page.locator(`[data-inbox-id="${waiting.id}"]`) })
          assert.equal((await row.locator(`[data-asset="${waiting.id}"]`).innerText()).trim(), waiting.asset.name)
          assert.match((await row.locator('[data-test=due-time]').innerText()).trim(), TEXT[lang].due)
          const late = page.locator('.el-table__row', { has: page.locator(`[data-inbox-id="${overdue.id}"]`) })
          assert.match((await late.locator('[data-test=due-time]').innerText()).trim(), TEXT[lang].overdue)
        }
        await screenshot(page, `context-dashboard-${lang}-${width}`)
        await accessibleAndFits(page)

        await page.locator('[data-test=overdue-filter]').click()
        await page.waitForURL(/overdue=true/)
        await page.locator(`[data-inbox-id="${waiting.id}"]`).waitFor({ state: 'detached' })
        assert.deepEqual(
          await page.locator('[data-inbox-id]').evaluateAll((links) => links.map((a) => a.dataset.inboxId)),
          [String(overdue.id)],
        )
        assert.deepEqual(tab.unexpectedErrors(), [])
      })

      it('the approve dialog shows the context of the request decided', async () => {
        const { page } = tab
        await page.goto('/dashboard')
        await page.locator(`[data-approve="${waiting.id}"]`).click()
        const block = page.locator('[data-test=decision-dialog] [data-test=decision-context]')
        await block.waitFor()
        assert.equal(await block.getAttribute('data-request'), String(waiting.id))
        assertContext(await contextOf(block), waiting, lang, 'due')
        await screenshot(page, `context-approve-${lang}-${width}`)
        await accessibleAndFits(page)
        await page.keyboard.press('Escape')
        await block.waitFor({ state: 'hidden' })
      })

      it('the request page puts the state beside the title and the context above the facts', async () => {
        const { page } = tab
        await page.goto(`/requests/${overdue.id}`)
        const state = page.locator('[data-test=detail-state] [data-state=pending]')
        await state.waitFor()
        const title = await page.locator('h1').boundingBox()
        const tag = await state.boundingBox()
        assert.ok(tag.y < title.y + title.height && tag.y + tag.height > title.y, 'the state tag is beside the title')
        const block = page.locator('[data-test=decision-context]')
        assertContext(await contextOf(block), overdue, lang, 'overdue')
        await screenshot(page, `context-request-${lang}-${width}`)
        await accessibleAndFits(page)
        assert.deepEqual(tab.unexpectedErrors(), [])
      })
    })
  }

  describe(`notifications, ${lang}`, { timeout: 180_000 }, () => {
    it('say what happened, and opening the request reads them in the user’s other tab at once', async () => {
      // Two steps (the value is above the threshold): Bob's approval leaves it waiting for the admin.
      const big = await alice.post('/api/requests', {
        kind: 'acquire',
        reason: 'Render workstation',
        name: 'Workstation',
        category: 'Laptop',
        value: '25000.00',
        currency: 'CNY',
      })
      const reader = await openAs('alice', DESKTOP, lang)
      const other = await reader.context.newPage()
      await other.goto('/notifications')
      await other.locator('[data-test=connection][data-status=live]').waitFor()
      await bob.post(`/api/requests/${big.id}/approve`, { comment: 'Fine for step one' })
      const row = other.locator(`[data-request-id="${big.id}"]`).first()
      await row.waitFor()
      assert.equal((await row.locator('a').first().innerText()).trim(), TEXT[lang].advanced)
      await screenshot(other, `context-notifications-${lang}`)

      const { count: before } = await alice.get('/api/notifications/unread-count')
      assert.ok(before >= 1)
      await eventually(async () => (await bellCount(other)) === before, 5000, 'the bell to count every unread')
      const { items } = await alice.get(`/api/notifications?limit=100&unread=true`)
      const aboutIt = items.filter((n) => n.payload.request_id === big.id).length
      assert.ok(aboutIt >= 1)

      await reader.page.goto(`/requests/${big.id}`)
      await reader.page.locator('[data-test=detail-state]').waitFor()
      // The other tab hears of it over its socket: no reload, no refetch.
      await other.locator(`[data-test=bell][data-count="${before - aboutIt}"]`).waitFor({ timeout: 5000 })
      assert.equal((await alice.get('/api/notifications/unread-count')).count, before - aboutIt)
      await other.locator(`[data-request-id="${big.id}"].unread`).waitFor({ state: 'detached' })
      assert.deepEqual(reader.unexpectedErrors(), [])
      await reader.context.close()
    })
  })
}
