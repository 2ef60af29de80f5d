// Return for changes, seen live by both people: the approver returns a request with a comment, the applicant's
// open page shows what was asked, the applicant edits the value in place and resumes, and the request comes back
// to the approver's open dashboard. In English and Chinese, each screen checked by axe at 1440 and 375 px.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { seriousViolations } from './a11y.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { apiAs, startServer } from './server.js'

const LIVE_MS = 3000 // a live update shows well within this (pushes arrive in under a second)
let server
let browser
let aliceApi
let bobApi

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    aliceApi = await apiAs(server.url, 'alice')
    bobApi = await apiAs(server.url, 'bob')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

async function person(username, lang, viewport) {
  const opened = await openPage(browser, server.url, viewport)
  await opened.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
  await login(opened.page, username)
  return opened
}

async function noSeriousViolations(page, what) {
  // The pointer off the button it just pressed: axe judges the screen as it is read, not a hover colour.
  await page.mouse.move(1, 1)
  assert.deepEqual(await seriousViolations(page), [], what)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `${what}: the page is ${overflow}px wider than the viewport`)
}

// Each language swaps the two widths, so every new screen is checked at both.
const RUNS = [
  { lang: 'en', aliceAt: DESKTOP, bobAt: PHONE, asked: 'returned this request for changes', width: [1440, 375] },
  { lang: 'zh-CN', aliceAt: PHONE, bobAt: DESKTOP, asked: '退回了此申请，请修改', width: [375, 1440] },
]

for (const { lang, aliceAt, bobAt, asked, width } of RUNS) {
  describe(`return → edit → resume, live, ${lang}`, { timeout: 240_000 }, () => {
    let alice
    let bob

    before(async () => {
      alice = await person('alice', lang, aliceAt)
      bob = await person('bob', lang, bobAt)
    })
    after(async () => {
      await alice?.context.close()
      await bob?.context.close()
    })

    it('the approver returns it, the applicant sees why, edits it and resumes, the approver sees it back', async () => {
      const req = await aliceApi.post('/api/requests', {
        kind: 'acquire',
        name: 'Standing desk',
        category: 'Furniture',
        value: '800.00',
        reason: 'My back',
      })
      const bobsQueue = await bobApi.get('/api/requests?scope=inbox&per_page=100')
      assert.ok(
        bobsQueue.items.some((r) => r.id === req.id),
        'bob decides alice’s low-value request',
      )

      await alice.page.goto(`/requests/${req.id}`)
      await alice.page.locator('[data-test=detail-state] [data-state=pending]').waitFor()
      await bob.page.goto('/dashboard')
      await bob.page.locator(`[data-inbox-id="${req.id}"]`).waitFor()

      // The approver returns it; a return needs a comment.
      await bob.page.locator(`[data-return="${req.id}"]`).click()
      const dialog = bob.page.locator('[data-test=decision-dialog]')
      await dialog.locator('[data-test=decision-confirm]').click()
      await dialog.locator('.el-form-item__error').waitFor()
      await dialog.locator('[data-test=decision-comment]').fill('Which model? Add the supplier and the price.')
      await noSeriousViolations(bob.page, `the return dialog at ${width[1]} px`)
      await screenshot(bob.page, `return-dialog-${lang}-${width[1]}`)
      const returned = Date.now()
      await dialog.locator('[data-test=decision-confirm]').click()
      await bob.page.locator(`[data-inbox-id="${req.id}"]`).waitFor({ state: 'detached', timeout: LIVE_MS })

      // The applicant's open page shows what was asked, without a reload.
      const comment = alice.page.locator('[data-test=return-comment]')
      await comment.waitFor({ timeout: LIVE_MS })
      assert.ok(Date.now() - returned < LIVE_MS, 'the return showed live')
      assert.equal((await comment.textContent()).trim(), 'Which model? Add the supplier and the price.')
      await alice.page.locator('[data-test=return-asked]', { hasText: asked }).waitFor()
      await alice.page.locator('[data-test=detail-state] [data-state=returned]').waitFor()
      await noSeriousViolations(alice.page, `the returned request at ${width[0]} px`)
      await screenshot(alice.page, `return-asked-${lang}-${width[0]}`)

      // Edited in place: a value the form refuses is not sent; then a good one.
      await alice.page.locator('[data-test=edit]').click()
      const form = alice.page.locator('[data-test=edit-form]')
      await form.locator('[data-edit=value]').fill('8.001')
      await form.locator('[data-test=edit-save]').click()
      await form.locator('.el-form-item__error').first().waitFor()
      await form.locator('[data-edit=value]').fill('950.00')
      await form.locator('[data-edit=name]').fill('Standing desk, ACME S2')
      await noSeriousViolations(alice.page, `the edit form at ${width[0]} px`)
      await screenshot(alice.page, `return-edit-${lang}-${width[0]}`)
      await form.locator('[data-test=edit-save]').click()
      await form.waitFor({ state: 'detached' })
      await alice.page.locator('[data-test=timeline] [data-action=edit]').waitFor()

      // Resumed: it comes back to the approver's open dashboard, live.
      const resumed = Date.now()
      await alice.page.locator('[data-test=resume]').click()
      await alice.page.locator('[data-test=detail-state] [data-state=pending]').waitFor()
      await bob.page.locator(`[data-inbox-id="${req.id}"]`).waitFor({ timeout: LIVE_MS })
      assert.ok(Date.now() - resumed < LIVE_MS, 'the resume showed live')
      assert.equal(await alice.page.locator('[data-test=return-asked]').count(), 0)

      const stored = await bobApi.get(`/api/requests/${req.id}`)
      assert.deepEqual(
        [stored.state, stored.step, stored.value, stored.name],
        ['pending', 1, '950.00', 'Standing desk, ACME S2'],
      )
      assert.deepEqual(
        stored.events.map((e) => e.action),
        ['submit', 'return', 'edit', 'resume'],
      )
      assert.deepEqual(alice.unexpectedErrors(), [])
      assert.deepEqual(bob.unexpectedErrors(), [])
    })
  })
}
