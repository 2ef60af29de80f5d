// Single sign-on in a real browser: the login page's "Sign in with …", the provider's own login form
// (oidc-provider on Node: tests/node/oidc_provider.mjs), and back into the app signed in — in English
// and in Chinese. Also: a refused sign-in says why on the login page, and the login page with SSO has
// zero critical or serious axe violations at 1440 and 375 px in both languages.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { REPO, freePort, httpJson, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'

const PROVIDER_NAME = 'Contoso ID'

let server
let browser
let provider
let issuer

/** The test provider on a loopback port, registered with this app's callback; resolves to its issuer. */
function startProvider(redirectUri) {
  provider = spawn('node', ['oidc_provider.mjs', redirectUri], {
    cwd: join(REPO, 'tests', 'node'),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let said = ''
  provider.stderr.on('data', (chunk) => (said += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start')), 30_000)
    provider.once('exit', (code) =>
      reject(new Error(`the OpenID provider exited (${code}); is tests/node installed (make test does it)?\n${said}`)),
    )
    createInterface({ input: provider.stdout }).once('line', (line) => {
      clearTimeout(timer)
      resolve(JSON.parse(line).issuer)
    })
  })
}

async function account(sub, claims) {
  const res = await httpJson('PUT', `${issuer}/__test/accounts/${sub}`, { body: claims })
  assert.equal(res.status, 204)
}

before(
  async () => {
    const port = await freePort()
    issuer = await startProvider(`http://127.0.0.1:${port}/api/auth/oidc/callback`)
    server = await startServer({
      port,
      env: {
        OIDC_ISSUER: issuer,
        OIDC_CLIENT_ID: 'assetflow',
        OIDC_CLIENT_SECRET: 'sso-test-secret',
        OIDC_DEPARTMENT_CLAIM: 'department',
        OIDC_ROLE_MAP: 'af-approvers=approver,af-admins=admin',
        OIDC_DISPLAY_NAME: PROVIDER_NAME,
      },
    })
    browser = await launchBrowser()
    await account('sub-e2e-mei', {
      preferred_username: 'mei.wang',
      name: 'Mei Wang',
      email: 'mei@corp.example',
      groups: ['af-approvers'],
      department: 'ENG',
    })
    await account('sub-e2e-ghost', { preferred_username: 'ghost', name: 'Ghost', department: 'NOWHERE' })
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
  provider?.kill()
})

/** A fresh browser profile in `locale` (the SPA follows the browser's language on a first visit). */
async function newPage(locale, viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL: server.url, viewport, locale })
  context.setDefaultTimeout(15_000)
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (err) => errors.push(err.message))
  return { context, page, errors }
}

/** From the app's login page through the provider's form; returns when back in the app. */
async function signInAtProvider(page, sub, buttonText) {
  await page.goto('/login')
  const button = page.locator('[data-test=sso-login]')
  assert.equal((await button.innerText()).trim(), buttonText)
  await button.click()
  await page.waitForURL((u) => u.href.startsWith(issuer))
  await page.getByLabel('Account').fill(sub)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((u) => u.href.startsWith(server.url))
}

describe('single sign-on', () => {
  for (const [locale, buttonText, shown] of [
    ['en-US', `Sign in with ${PROVIDER_NAME}`, 'Approval dashboard'],
    ['zh-CN', `使用 ${PROVIDER_NAME} 登录`, '审批台'],
  ]) {
    it(`signs in through the provider and lands in the app (${locale})`, async () => {
      const { context, page, errors } = await newPage(locale)
      try {
        await signInAtProvider(page, 'sub-e2e-mei', buttonText)
        await page.waitForURL((u) => u.pathname === '/dashboard') // an approver lands on their queue
        await page.locator('[data-test=connection][data-status=live]').waitFor()
        const session = await page.evaluate(() => JSON.parse(localStorage.getItem('assetflow.session')))
        assert.equal(session.user.username, 'mei.wang')
        assert.equal(session.user.role, 'approver') // af-approvers, by OIDC_ROLE_MAP
        assert.match(await page.locator('main').innerText(), new RegExp(shown))
        // No token ever stood in the address bar: the history holds the provider's and the app's pages only.
        assert.doesNotMatch(page.url(), /token|ticket|code=/)
        await screenshot(page, `sso-signed-in-${locale}`)
        assert.deepEqual(errors, [])
      } finally {
        await context.close()
      }
    })
  }

  it('says on the login page why a sign-in was refused (unknown department)', async () => {
    const { context, page } = await newPage('en-US')
    try {
      await signInAtProvider(page, 'sub-e2e-ghost', `Sign in with ${PROVIDER_NAME}`)
      await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('sso_error') === 'unknown_department')
      const alert = page.locator('[data-test=sso-error]')
      assert.match(await alert.innerText(), /department from the sign-in service is not known/)
      const session = await page.evaluate(() => localStorage.getItem('assetflow.session'))
      assert.ok(!session || !JSON.parse(session)?.accessToken)
    } finally {
      await context.close()
    }
  })

  for (const locale of ['en-US', 'zh-CN']) {
    for (const [size, viewport] of [
      ['1440', DESKTOP],
      ['375', PHONE],
    ]) {
      it(`the login page with single sign-on has no serious axe violations (${locale}, ${size} px)`, async () => {
        const { context, page } = await newPage(locale, viewport)
        try {
          await page.goto('/login?sso_error=deactivated')
          await page.locator('[data-test=sso-login]').waitFor()
          await page.locator('[data-test=sso-error]').waitFor()
          assert.deepEqual(await seriousViolations(page), [])
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`)
          await screenshot(page, `sso-login-${locale}-${size}`)
        } finally {
          await context.close()
        }
      })
    }
  }
})
