// Issue 21 in the browser, in English and in Chinese: an admin imports assets (dry run, then apply), and
// a person makes an API token, uses it, and revokes it; axe finds nothing critical or serious on either
// screen at 1440 and 375 px.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, httpJson, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'

let server
let browser
let adminApi
const HEADINGS = {
  en: { import: 'Import', tokens: 'API tokens' },
  'zh-CN': { import: '导入', tokens: 'API 令牌' },
}

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    adminApi = await apiAs(server.url, 'admin')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

/** A signed-in page in `lang`. */
async function as(who, lang, viewport = DESKTOP) {
  const p = await openPage(browser, server.url, viewport)
  await p.page.addInitScript((l) => localStorage.setItem('assetflow.locale', JSON.stringify(l)), lang)
  await login(p.page, who)
  return p
}

async function noSeriousViolations(page) {
  assert.deepEqual(await seriousViolations(page), [])
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
}

const csv = (lines) => ({ name: 'assets.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n') + '\n') })

for (const lang of ['en', 'zh-CN']) {
  const tag = lang === 'en' ? 'EN' : 'ZH'

  describe(`import and API tokens, ${lang}`, { timeout: 300_000 }, () => {
    it('an admin checks a file, sees each row, fixes it and applies it', async () => {
      const { page, context, unexpectedErrors } = await as('admin', lang)
      await page.goto('/admin/import')
      await page.locator('h1', { hasText: HEADINGS[lang].import }).waitFor()
      await page.locator('[data-test=import-kind] [data-kind=assets]').click()
      const header = 'tag,name,category,value,status,custodian_username'
      await page
        .locator('[data-test=import-file]')
        .setInputFiles(csv([header, `IO-${tag}-1,Plotter,Printer,1200.50,in_stock,`, `IO-${tag}-2,Desk,,20,lost,`]))
      await page.locator('[data-test=import-check]').click()
      const report = page.locator('[data-test=import-report]')
      await report.waitFor()
      // The bad row is shown with each of its errors, and nothing can be applied yet.
      await page.locator('[data-test=import-summary] [data-action=error] strong', { hasText: '1' }).waitFor()
      const bad = page.locator('[data-test=import-rows] tr[data-row="3"]')
      assert.equal(await bad.getAttribute('data-action'), 'error')
      assert.match(await bad.innerText(), /category: must not be empty/)
      assert.match(await bad.innerText(), /status: Must be one of/)
      assert.equal(await page.locator('[data-test=import-apply]').isDisabled(), true)
      await screenshot(page, `import-errors-${lang}`)
      await noSeriousViolations(page)

      await page
        .locator('[data-test=import-file]')
        .setInputFiles(
          csv([header, `IO-${tag}-1,Plotter,Printer,1200.50,in_stock,`, `IO-${tag}-2,Desk,Furniture,20,in_use,alice`]),
        )
      await page.locator('[data-test=import-check]').click()
      await page.locator('[data-test=import-summary] [data-action=create] strong', { hasText: '2' }).waitFor()
      assert.equal(await report.getAttribute('data-applied'), 'false')
      assert.equal((await adminApi.get(`/api/assets?q=IO-${tag}`)).total, 0) // a dry run writes nothing
      await page.locator('[data-test=import-apply]').click()
      await page.locator('[data-test=import-report][data-applied=true]').waitFor()
      const made = await adminApi.get(`/api/assets?q=IO-${tag}&sort=tag`)
      assert.deepEqual(
        made.items.map((a) => [a.tag, a.status, a.custodian?.username ?? null]),
        [
          [`IO-${tag}-1`, 'in_stock', null],
          [`IO-${tag}-2`, 'in_use', 'alice'],
        ],
      )
      await screenshot(page, `import-applied-${lang}`)
      await noSeriousViolations(page)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('a person makes a token, an integration uses it, and it is revoked', async () => {
      const { page, context, unexpectedErrors } = await as('alice', lang)
      await page.goto('/tokens')
      await page.locator('h1', { hasText: HEADINGS[lang].tokens }).waitFor()
      // Alice's role may give only these two scopes.
      const offered = await page
        .locator('[data-test=token-scopes] [data-scope]')
        .evaluateAll((els) => els.map((el) => el.getAttribute('data-scope')))
      assert.deepEqual(offered, ['read', 'requests:write'])
      await page.locator('[data-test=token-name]').fill(`ERP ${tag}`)
      await page.locator('[data-test=create-token]').click()
      const secret = (await page.locator('[data-test=token-secret]').innerText()).trim()
      assert.match(secret, /^af_[A-Za-z0-9_-]{43}$/)
      await screenshot(page, `token-created-${lang}`)
      await noSeriousViolations(page)

      // The integration: another program with only the secret.
      const used = await httpJson('GET', `${server.url}/api/assets?mine=true`, {
        headers: { Authorization: `Bearer ${secret}` },
      })
      assert.equal(used.status, 200)
      const write = await httpJson('POST', `${server.url}/api/requests`, {
        headers: { Authorization: `Bearer ${secret}` },
        body: { kind: 'acquire', reason: 'from the ERP', name: 'Hub', category: 'Peripheral', value: '10' },
      })
      assert.equal(write.status, 403)
      assert.equal(write.data.error.code, 'insufficient_scope')

      await page.reload()
      const row = page.locator('[data-token-id]', { hasText: `ERP ${tag}` })
      await row.locator('[data-test=token-last-used] time').waitFor() // "last used" is now a time, not "never"
      await row.locator('[data-test=revoke-token]').click()
      await page.locator('.el-message-box .el-message-box__btns .el-button--primary').click()
      await row.waitFor({ state: 'detached' })
      const refused = await httpJson('GET', `${server.url}/api/assets`, {
        headers: { Authorization: `Bearer ${secret}` },
      })
      assert.equal(refused.status, 401)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('both screens at 375 px', async () => {
      const { page, context, unexpectedErrors } = await as('admin', lang, PHONE)
      await page.locator('[data-test=menu]').click()
      await page.locator('[data-nav=api-tokens]').click()
      await page.locator('[data-test=token-form]').waitFor()
      await screenshot(page, `tokens-${lang}-375`)
      await noSeriousViolations(page)
      await page.goto('/admin/import')
      await page.locator('[data-test=import-form]').waitFor()
      await screenshot(page, `import-${lang}-375`)
      await noSeriousViolations(page)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })
}
