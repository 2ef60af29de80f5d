// Issue 20: toasts never cover a control or the state of the page. Live updates arrive while alice reads a
// request (its state tag) and her notifications ("Mark all read"), and while bob reads his dashboard (the
// stat cards); no toast's box may meet any of those, nor the header's bell, language picker and menu —
// at 1280, 1440 and 375 px, in English and Chinese.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, openAs, screenshot } from './browser.js'
import { assertUncovered, headerControls } from './helpers.js'

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

/** An acquire by alice, below the threshold: bob's decision is final, and he is told of it. */
const acquire = (reason) =>
  aliceApi.post('/api/requests', { kind: 'acquire', reason, name: 'Headset', category: 'Peripheral', value: '80.00' })

for (const [label, viewport] of [
  ['1280', { width: 1280, height: 800 }],
  ['1440', DESKTOP],
  ['375', PHONE],
]) {
  for (const lang of ['en', 'zh-CN']) {
    describe(`toasts at ${label} px, ${lang}`, { timeout: 180_000 }, () => {
      let alice
      let bob

      before(async () => {
        alice = await openAs(browser, server.url, 'alice', lang, viewport)
        bob = await openAs(browser, server.url, 'bob', lang, viewport)
      })

      after(async () => {
        for (const p of [alice, bob]) {
          assert.deepEqual(p.unexpectedErrors(), [])
          await p.context.close()
        }
      })

      it('cover neither the header nor the state tag of the request on screen', async () => {
        const req = await acquire(`Toast on the page, ${label} ${lang}`)
        await alice.page.goto(`/requests/${req.id}`)
        await alice.page.locator('[data-test=detail-state] [data-state=pending]').waitFor()
        await bobApi.post(`/api/requests/${req.id}/reject`, { comment: 'Not this quarter' })
        await alice.page.locator('[data-test=detail-state] [data-state=rejected]').waitFor()
        await alice.page.locator('.el-notification.live-toast').first().waitFor()
        assert.ok((await assertUncovered(alice.page, [...headerControls(viewport), '[data-test=detail-state]'])) >= 4)
        await screenshot(alice.page, `shell-toast-request-${lang}-${label}`)
      })

      it('cover neither the header nor "Mark all read"', async () => {
        const req = await acquire(`Toast on the inbox, ${label} ${lang}`)
        await alice.page.goto('/notifications')
        await alice.page.locator('[data-test=mark-all]').waitFor()
        const before = await alice.page.locator('.el-notification.live-toast').count()
        await bobApi.post(`/api/requests/${req.id}/reject`, { comment: 'Not this quarter' })
        await alice.page.waitForFunction(
          (n) => document.querySelectorAll('.el-notification.live-toast').length > n,
          before,
        )
        assert.ok((await assertUncovered(alice.page, [...headerControls(viewport), '[data-test=mark-all]'])) >= 4)
      })

      it('cover neither the header nor the dashboard’s counts', async () => {
        await bob.page.goto('/dashboard')
        await bob.page.locator('[data-test=stats]').waitFor()
        await acquire(`Toast on the dashboard, ${label} ${lang}`)
        await bob.page.locator('.el-notification.live-toast').first().waitFor()
        // On a phone the counts are one line (a <details>); wider, one card per count and the median.
        const cards = viewport === PHONE ? '[data-test=stats]' : '[data-test=stats] > *'
        assert.ok((await assertUncovered(bob.page, [...headerControls(viewport), cards])) >= 4)
        await screenshot(bob.page, `shell-toast-dashboard-${lang}-${label}`)
      })
    })
  }
}
