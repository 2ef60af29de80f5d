// Issue 20's rough edges, in English and Chinese: a rejected step, the custody history's wording, the
// withdraw question, the admin screens' width, the demo users on the login page, e-mail that is not set
// up, a page the user's role may not open, the assets' sort label, the acquire form's currency.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, openAs, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'
import { assertUncovered, freeAsset, headerControls } from './helpers.js'

const TEXT = {
  en: {
    forbidden: 'Not allowed',
    admins: 'administrators',
    rejected: 'Rejected',
    viaRequest: (id) => `Assign request #${id}`,
    withdrawTitle: (id) => `Withdraw request #${id}?`,
    withdraw: 'Withdraw request',
    keep: 'Keep it',
    sortBy: 'Sort by',
    emailOff: 'E-mail is not set up on this server',
  },
  'zh-CN': {
    forbidden: '无权访问',
    admins: '管理员',
    rejected: '已驳回',
    viaRequest: (id) => `领用申请 #${id}`,
    withdrawTitle: (id) => `撤回申请 #${id}？`,
    withdraw: '撤回申请',
    keep: '保留',
    sortBy: '排序',
    emailOff: '此服务器未配置电子邮件',
  },
}

let server
let browser
let aliceApi
const taken = new Set()
const rejected = {} // lang -> a request of alice's that bob rejected
const custody = {} // lang -> {asset, request}: bob's approval handed the asset to alice

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    aliceApi = await apiAs(server.url, 'alice')
    const bobApi = await apiAs(server.url, 'bob')
    for (const lang of Object.keys(TEXT)) {
      const r = await aliceApi.post('/api/requests', {
        kind: 'acquire',
        reason: `Rejected, ${lang}`,
        name: 'Headset',
        category: 'Peripheral',
        value: '80.00',
      })
      await bobApi.post(`/api/requests/${r.id}/reject`, { comment: 'Use the spare one' })
      rejected[lang] = r.id
      const asset = await freeAsset(aliceApi, taken)
      const a = await aliceApi.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: `Mine, ${lang}` })
      await bobApi.post(`/api/requests/${a.id}/approve`, { comment: 'Fine' })
      custody[lang] = { asset: asset.id, request: a.id }
    }
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

async function noOverflow(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
}

for (const lang of Object.keys(TEXT)) {
  const text = TEXT[lang]

  describe(`rough edges, ${lang}`, { timeout: 240_000 }, () => {
    const pages = {}

    before(async () => {
      pages.alice = await openAs(browser, server.url, 'alice', lang, DESKTOP)
      pages.phone = await openAs(browser, server.url, 'alice', lang, PHONE)
      pages.admin = await openAs(browser, server.url, 'admin', lang, DESKTOP)
      pages.anon = await openAs(browser, server.url, null, lang, PHONE)
    })

    after(async () => {
      for (const p of Object.values(pages)) {
        await noOverflow(p.page)
        assert.deepEqual(p.unexpectedErrors(), [])
        await p.context.close()
      }
    })

    it('a rejected step says "Rejected" in red, not a green "Done"', async () => {
      const { page } = pages.alice
      await page.goto(`/requests/${rejected[lang]}`)
      const tag = page.locator('[data-test=chain] [data-test=step-state]')
      await tag.waitFor()
      assert.equal((await tag.innerText()).trim(), text.rejected)
      assert.equal(await tag.getAttribute('data-outcome'), 'rejected')
      assert.match(await tag.getAttribute('class'), /el-tag--danger/)
      assert.deepEqual(await seriousViolations(page), [])
    })

    it('the custody history names the request once, as a link', async () => {
      const { asset, request } = custody[lang]
      const { page } = pages.alice
      await page.goto(`/assets/${asset}`)
      const source = page.locator('[data-test=custody-source]', { hasText: `#${request}` })
      await source.waitFor()
      assert.equal((await source.locator('a').innerText()).trim(), text.viaRequest(request))
      assert.equal((await source.innerText()).split(`#${request}`).length, 2, 'the id appears once')
      await source.locator('a').click()
      await page.waitForURL(new RegExp(`/requests/${request}$`))
    })

    for (const who of ['alice', 'phone']) {
      it(`withdrawing says what happens, with buttons that name the choice (${who === 'phone' ? 375 : 1440} px)`, async () => {
        const asset = await freeAsset(aliceApi, taken)
        const req = await aliceApi.post('/api/requests', {
          kind: 'assign',
          asset_id: asset.id,
          reason: 'Changed my mind',
        })
        const { page } = pages[who]
        await page.goto(`/requests/${req.id}`)
        await page.locator('[data-test=withdraw]').click()
        const box = page.locator('.withdraw-confirm')
        await box.waitFor()
        assert.equal((await box.locator('.el-message-box__title').innerText()).trim(), text.withdrawTitle(req.id))
        assert.ok((await box.innerText()).includes(asset.tag), 'it says that the asset is free again')
        await screenshot(page, `shell-withdraw-${lang}-${who === 'phone' ? 375 : 1440}`)
        assert.deepEqual(await seriousViolations(page), [])
        await box.getByRole('button', { name: text.keep, exact: true }).click()
        await box.waitFor({ state: 'hidden' })
        assert.equal((await aliceApi.get(`/api/requests/${req.id}`)).state, 'pending')
        await page.locator('[data-test=withdraw]').click()
        await box.getByRole('button', { name: text.withdraw, exact: true }).click()
        await page.locator('[data-test=detail-state] [data-state=withdrawn]').waitFor()
        // The "withdrawn" message covers neither the header nor the new state.
        await page.locator('.el-message').first().waitFor()
        const viewport = who === 'phone' ? PHONE : DESKTOP
        assert.ok((await assertUncovered(page, [...headerControls(viewport), '[data-test=detail-state]'])) >= 4)
      })
    }

    it('the admin screens share one width, so the admin tabs stay put', async () => {
      const { page } = pages.admin
      const seen = []
      for (const path of ['/admin/departments', '/admin/users', '/admin/rules', '/admin/webhooks']) {
        await page.goto(path)
        const nav = page.locator('[data-test=admin-nav]')
        await nav.waitFor()
        const box = await page.locator('main .page').first().boundingBox()
        const tabs = await nav.locator('a').evaluateAll((as) => as.map((a) => Math.round(a.getBoundingClientRect().x)))
        seen.push({ path, width: Math.round(box.width), tabs })
      }
      for (const s of seen.slice(1)) {
        assert.deepEqual([s.width, s.tabs], [seen[0].width, seen[0].tabs], `${s.path} differs from ${seen[0].path}`)
      }
    })

    it('the login page names all nine demo users, from the server', async () => {
      const { demo_users: users } = await fetch(`${server.url}/healthz`).then((r) => r.json())
      assert.equal(users.length, 9)
      const { page } = pages.anon
      await page.goto('/login')
      const hint = page.locator('[data-test=demo-hint]')
      await hint.waitFor()
      const shown = await hint.innerText()
      for (const u of users) assert.ok(shown.includes(u.username), `${u.username} is named`)
      assert.ok(shown.includes('assetflow-demo'))
    })

    it('preferences say that e-mail is not set up here, and offer no mode', async () => {
      const { page } = pages.phone
      await page.goto('/preferences')
      await page.locator('[data-test=email-off]', { hasText: text.emailOff }).waitFor()
      assert.ok(await page.locator('[data-mode=instant] input').isDisabled())
      assert.ok(await page.locator('[data-test=save-preferences]').isDisabled())
    })

    for (const path of ['/admin/users', '/dashboard']) {
      it(`an employee who opens ${path} is told she may not, at that address`, async () => {
        const { page } = pages.alice
        await page.goto(path)
        await page.locator('[data-test=forbidden] h1', { hasText: text.forbidden }).waitFor()
        assert.equal(new URL(page.url()).pathname, path)
        if (path === '/admin/users')
          assert.ok((await page.locator('[data-test=forbidden]').innerText()).includes(text.admins))
        await page.locator('[data-test=go-home]').click()
        await page.waitForURL(/\/requests$/)
      })
    }

    it('the assets sort control has a visible "Sort by" label that names it', async () => {
      const { page } = pages.phone
      await page.goto('/assets')
      const label = page.locator('[data-test=asset-filters] [data-test=list-sort-label]')
      await label.waitFor()
      assert.equal((await label.innerText()).trim(), text.sortBy)
      assert.equal(await page.getByLabel(text.sortBy, { exact: true }).count(), 1)
    })

    it('the acquire form starts with the server’s default currency filled in', async () => {
      const { default_currency: currency } = await fetch(`${server.url}/api/meta`).then((r) => r.json())
      const { page } = pages.alice
      await page.goto('/requests/new?kind=acquire')
      const input = page.locator('input[data-test=currency]')
      await input.waitFor()
      assert.equal(await input.inputValue(), currency)
    })
  })
}
