// Issue 11's screens in a real browser, in English and Chinese: the preferences page, the webhook
// admin screen with its delivery log (the server's own delivery worker calls a receiver started
// here), and the confirmation page of an e-mail's one-click link (a token signed by the backend).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { launchBrowser, login, openPage, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'
import { eventually, freeAsset } from './helpers.js'

let server
let browser
let receiver
const received = []
const taken = new Set()

/** A webhook receiver on 127.0.0.1 that answers 204 and keeps what it got. */
function startReceiver() {
  return new Promise((ok) => {
    const srv = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk) => (body += chunk))
      req.on('end', () => {
        received.push({ headers: req.headers, body })
        res.writeHead(204).end()
      })
    })
    srv.listen(0, '127.0.0.1', () => ok(srv))
  })
}

before(
  async () => {
    // The webhook receiver of these scenarios listens on loopback, which webhooks may reach only when allowed.
    // MAIL_URL: the preferences page offers e-mail only when the server can send it (nothing listens on
    // port 9; no scenario here waits for an e-mail).
    server = await startServer({ env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', MAIL_URL: 'smtp://127.0.0.1:9' } })
    browser = await launchBrowser()
    receiver = await startReceiver()
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
  receiver?.close()
})

async function signedIn(who, lang) {
  const p = await openPage(browser, server.url)
  await p.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
  if (who) await login(p.page, who)
  return p
}

const TEXT = {
  en: {
    every4h: 'Every 4 hours',
    saved: 'Preferences saved',
    approved: 'You approved request',
    rejected: 'You rejected request',
    used: 'This link was already used',
  },
  'zh-CN': {
    every4h: '每 4 小时',
    saved: '偏好设置已保存',
    approved: '您已批准申请',
    rejected: '您已驳回申请',
    used: '此链接已被使用',
  },
}

for (const [lang, who] of [
  ['en', 'alice'],
  ['zh-CN', 'dave'],
]) {
  const text = TEXT[lang]

  describe(`preferences, ${lang}`, { timeout: 120_000 }, () => {
    it('saves the e-mail mode, digest interval and language, and shows them after a reload', async () => {
      const { page, context, unexpectedErrors } = await signedIn(who, lang)
      await page.goto('/preferences')
      await page.locator('[data-mode=digest]').click()
      await page.locator('[data-test=digest-minutes]').click()
      await page.locator('.el-select-dropdown__item:visible', { hasText: text.every4h }).click()
      const other = lang === 'en' ? 'zh-CN' : 'en'
      await page.locator(`[data-language="${other}"]`).click()
      await page.locator('[data-test=save-preferences]').click()
      await page.locator('.el-message', { hasText: text.saved }).waitFor()
      await screenshot(page, `preferences-${lang}`)

      await page.reload()
      await page.locator('[data-mode=digest].is-checked').waitFor()
      await page.locator(`[data-language="${other}"].is-checked`).waitFor()
      assert.equal(await page.locator('[data-test=digest-minutes]').innerText(), text.every4h)
      const api = await apiAs(server.url, who)
      assert.deepEqual(await api.get('/api/me/preferences'), { email: 'digest', digest_minutes: 240, language: other })
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })

  describe(`webhooks, ${lang}`, { timeout: 120_000 }, () => {
    it('registers a webhook, sends a test and shows the delivery in the log', async () => {
      const { page, context, unexpectedErrors } = await signedIn('admin', lang)
      await page.goto('/admin/webhooks')
      await page.locator('[data-test=new-webhook]').click()
      const url = `http://127.0.0.1:${receiver.address().port}/hook-${lang}`
      await page.locator('[data-test=webhook-url]').fill(url)
      await page.locator('[data-event="request.approved"]').click()
      await page.locator('[data-test=generate-secret]').click()
      const secret = await page.locator('[data-test=webhook-secret]').inputValue()
      assert.match(secret, /^[0-9a-f]{64}$/)
      await screenshot(page, `webhook-form-${lang}`)
      assert.deepEqual(await seriousViolations(page), [])
      await page.locator('[data-test=webhook-save]').click()
      assert.equal(await page.locator('[data-test=secret-value]').innerText(), secret)

      const hook = page.locator('[data-webhook-id]', { hasText: url })
      await hook.locator('[data-test=ping-webhook]').click()
      const delivery = hook.locator('[data-delivery-id][data-state=sent]')
      await delivery.waitFor({ timeout: 15_000 })
      assert.equal(await delivery.locator('[data-test=delivery-call]').getAttribute('data-status'), '204')
      const id = await delivery.getAttribute('data-delivery-id')
      const got = received.find((r) => r.headers['x-assetflow-delivery'] === id)
      assert.ok(got, 'the receiver got the test delivery')
      assert.equal(JSON.parse(got.body).event ?? 'webhook.ping', 'webhook.ping')
      await screenshot(page, `webhooks-${lang}`)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('shows a failed call and its error for an unreachable URL', async () => {
      const { page, context, unexpectedErrors } = await signedIn('admin', lang)
      const admin = await apiAs(server.url, 'admin')
      const url = `http://127.0.0.1:9/unreachable-${lang}`
      const hook = await admin.post('/api/webhooks', { url, events: ['request.submitted'], secret: 'x'.repeat(32) })
      await page.goto('/admin/webhooks')
      const row = page.locator(`[data-webhook-id="${hook.id}"]`)
      await row.locator('[data-test=ping-webhook]').click()
      const call = row.locator('[data-test=delivery-call]').first()
      await call.waitFor({ timeout: 15_000 })
      assert.equal(await call.getAttribute('data-status'), '')
      assert.match(await row.locator('[data-test=call-error]').first().innerText(), /\S/)
      // Switched off, it can send no more tests.
      await row.locator('[data-test=webhook-active]').click()
      await eventually(async () => (await row.getAttribute('data-active')) === 'false', 5000, 'the switch')
      assert.equal(await row.locator('[data-test=ping-webhook]').isDisabled(), true)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })

  describe(`e-mail link confirmation, ${lang}`, { timeout: 120_000 }, () => {
    it('previews without changing anything, confirms once, and calls the reused link used', async () => {
      const alice = await apiAs(server.url, 'alice')
      const bob = await apiAs(server.url, 'bob')
      const asset = await freeAsset(alice, taken)
      const req = await alice.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: `Link test ${lang}` })
      const action = lang === 'en' ? 'approve' : 'reject'
      const token = server.emailLinkToken('bob', req.id, action)
      // English signed out (the link is the credential); Chinese signed in as someone else entirely.
      const { page, context, unexpectedErrors } = await signedIn(lang === 'en' ? null : 'alice', lang)
      const link = `/email-action?token=${encodeURIComponent(token)}`
      await page.goto(link)
      await page.locator(`[data-test=email-action][data-action=${action}]`).waitFor()
      assert.equal((await bob.get(`/api/requests/${req.id}`)).state, 'pending', 'opening the link changed nothing')
      await screenshot(page, `email-action-${lang}`)

      if (action === 'reject') await page.locator('[data-test=action-comment]').fill('Not this quarter')
      await page.locator('[data-test=confirm-action]').click()
      await page.locator('h1', { hasText: action === 'approve' ? text.approved : text.rejected }).waitFor()
      const decided = await bob.get(`/api/requests/${req.id}`)
      assert.equal(decided.state, action === 'approve' ? 'approved' : 'rejected')

      await page.goto(link)
      await page.locator('[data-test=link-problem][data-reason=used]').waitFor()
      assert.equal(await page.locator('h1').innerText(), text.used)
      assert.match(
        await page.locator('[data-test=open-request]').getAttribute('href'),
        new RegExp(`/requests/${req.id}$`),
      )
      await screenshot(page, `email-action-used-${lang}`)
      // The browser logs the 409 of the reused link's preview itself.
      assert.deepEqual(
        unexpectedErrors().filter((e) => !/409/.test(e)),
        [],
      )
      await context.close()
    })
  })
}
