// Issue 21, "no onboarding traps", in the browser, in English and in Chinese: the routing check on the
// departments and users screens, the New user dialog's required department, "try the draft" and the
// rule warnings in the rules editor (a rule that can never match, a step with nobody, the first error
// brought into view on save), and "will be decided by …" on the submit form. axe at 1440 and 375 px.
//
// The demo company is already a trap: its rules send most requests to an approver of the applicant's
// department (or above), and the company root has none. So the root is on the routing check from the start.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, choose, launchBrowser, openAs, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'
import { eventually } from './helpers.js'

let server
let browser
let adminApi
let savedRules

const WORDS = {
  en: {
    required: 'Required',
    nobody: 'nobody could decide it',
    noDecider: /Step 1 \(an approver\) has nobody who could decide it/,
    shadowed: /can never match: rule 4 above it/,
    nobodyFor: /Step 1 \(an approver\) has nobody who could decide it for requests from: Company/,
    matches: 'Rule 3 matches',
    errorsToFix: /Not saved: 1 field\(s\) to fix/,
    gap: /rule 4, step 1 \(an approver\) has nobody who could decide it/,
    finance: 'Finance',
    approver: 'Approver',
  },
  'zh-CN': {
    required: '必填',
    nobody: '没有人可以审批',
    noDecider: /第 1 步（审批人）没有可以审批的人/,
    shadowed: /永远不会匹配：上方的规则 4/,
    nobodyFor: /第 1 步（审批人）对以下部门的申请没有可以审批的人：Company/,
    matches: '匹配规则 3',
    errorsToFix: /未保存：有 1 个字段需要修正/,
    gap: /规则 4 的第 1 步（审批人）没有可以审批的人/,
    finance: 'Finance',
    approver: '审批人',
  },
}

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    adminApi = await apiAs(server.url, 'admin')
    savedRules = (await adminApi.get('/api/approval-rules')).items
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

/** A signed-in page in `lang`. */
const as = (who, lang, viewport = DESKTOP) => openAs(browser, server.url, who, lang, viewport)

/** Whether the element is wholly inside the window. */
const inView = (locator) =>
  locator.evaluate((el) => {
    const r = el.getBoundingClientRect()
    return r.top >= 0 && r.bottom <= window.innerHeight
  })

for (const lang of ['en', 'zh-CN']) {
  const tag = lang === 'en' ? 'EN' : 'ZH'
  const words = WORDS[lang]

  describe(`routing, ${lang}`, { timeout: 300_000 }, () => {
    it('the routing check lists a department nobody could decide for, and a new approver there clears it', async () => {
      const code = `RC-${tag}`
      const department = await adminApi.post('/api/departments', { name: `Check ${tag}`, code })
      const { page, context, unexpectedErrors } = await as('admin', lang)
      await page.goto('/admin/departments')
      const panel = page.locator('[data-test=routing-check]')
      const stuck = panel.locator(`[data-stuck-department="${code}"]`)
      await stuck.waitFor()
      assert.match(await stuck.textContent(), words.gap)
      assert.ok(await panel.locator('[data-stuck-department=HQ]').isVisible(), 'the root is stuck in the demo')
      await screenshot(page, `routing-check-departments-${lang}`)

      // The users screen shows the same; its New user dialog asks for a department instead of the root.
      await page.goto('/admin/users')
      await panel.locator(`[data-stuck-department="${code}"]`).waitFor()
      await page.locator('[data-test=user-new]').click()
      await page.locator('[data-test=user-username]').fill(`e2e-rc-${tag.toLowerCase()}`)
      await page.locator('[data-test=user-password]').fill('assetflow-demo-e2e')
      await page.locator('[data-test=user-role] [data-role=approver]').click()
      await page.locator('[data-test=user-save]').click()
      const field = page.locator('[data-field=department_id] .el-form-item__error')
      await field.waitFor()
      assert.equal((await field.textContent()).trim(), words.required)
      await screenshot(page, `routing-user-dialog-${lang}`)
      await choose(page, '[data-test=user-department]', `Check ${tag}`)
      await page.locator('[data-test=user-save]').click()
      await page.locator('[data-test=user-dialog]').waitFor({ state: 'hidden' })
      // Saved, and checked again: the department has an approver now.
      await panel.locator(`[data-stuck-department="${code}"]`).waitFor({ state: 'detached' })
      const { items } = await adminApi.get(`/api/users?q=e2e-rc-${tag.toLowerCase()}`)
      assert.equal(items[0].department.id, department.id)

      // The panel's link leads to the stuck department's people.
      await panel.locator('[data-stuck-department=HQ] [data-test=routing-people]').click()
      await page.waitForURL(/\/admin\/users\?department_id=1$/)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('the rules editor tries the draft, warns of a shadowed rule and a step with nobody, and shows the first error', async () => {
      const { page, context, unexpectedErrors } = await as('admin', lang)
      await page.goto('/admin/rules')
      await page.locator('[data-rule="3"]').waitFor()
      // Try: an acquire of 50 from Sales goes to rule 3, Sales's manager.
      await page.locator('[data-test=trial-value]').fill('50')
      await choose(page, '[data-test=trial-department]', 'Sales')
      const outcome = page.locator('[data-test=trial-outcome]')
      await outcome.locator('[data-test=trial-rule]', { hasText: words.matches }).waitFor()
      assert.match(await outcome.locator('[data-trial-step="1"]').textContent(), /Sara Lin/)
      // The saved demo rules send the root's requests to nobody: rule 1's card says so.
      await page
        .locator('[data-rule="0"] [data-test=rule-warning]', { hasText: words.nobodyFor })
        .waitFor({ timeout: 10_000 })

      // A new rule lands after the catch-all: it gets rule 4's timers, and a warning that it can never match.
      await page.locator('[data-test=rule-add]').click()
      const added = page.locator('[data-rule="4"]')
      await added.locator('[data-test=rule-warning]', { hasText: words.shadowed }).waitFor({ timeout: 10_000 })
      assert.equal(await added.locator('[data-test=step-remind]').inputValue(), '24')
      assert.equal(await added.locator('[data-test=step-escalate]').inputValue(), '72')
      await screenshot(page, `routing-rules-warnings-${lang}`)

      // A mistake far below the fold: Save says so and brings the field into view, cursor in it.
      await added.locator('[data-test=step-remind]').fill('-1')
      await page.evaluate(() => window.scrollTo(0, 0))
      await page.locator('[data-test=rules-save]').click()
      await page.locator('[data-test=rules-error-summary]', { hasText: words.errorsToFix }).waitFor()
      const remind = added.locator('[data-test=step-remind]')
      await eventually(() => remind.evaluate((el) => el === document.activeElement), 5000, 'the field to have focus')
      assert.ok(await inView(remind), 'the first error is on screen')
      // While the draft has an error, the trial waits for it.
      await page.locator('[data-test=rule-trial]', { hasText: lang === 'en' ? 'Fix the marked' : '请先修正' }).waitFor()
      assert.deepEqual((await adminApi.get('/api/approval-rules')).items, savedRules, 'nothing was saved')
      await page.locator('[data-test=rules-discard]').click()
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('the submit form says who will decide, and that nobody could, before submitting', async () => {
      const alice = await as('alice', lang)
      await alice.page.goto('/requests/new?kind=acquire')
      await alice.page.locator('[data-test=value]').fill('50')
      const preview = alice.page.locator('[data-test=route-preview]')
      await preview.locator('[data-route-step="1"]', { hasText: 'Bob Wang' }).waitFor()
      assert.match(await preview.textContent(), /Erik Zhou/)
      assert.equal(await preview.locator('[data-test=route-problem]').count(), 0)
      assert.deepEqual(alice.unexpectedErrors(), [])
      await alice.context.close()

      // Someone left at the company root (the API still defaults there) is told before submitting.
      const username = `e2e-root-${tag.toLowerCase()}`
      await adminApi.post('/api/users', { username, password: 'assetflow-demo', role: 'employee' })
      const { page, context, unexpectedErrors } = await as(username, lang)
      await page.goto('/requests/new?kind=acquire')
      await page.locator('[data-test=value]').fill('50')
      await page.locator('[data-test=route-preview] [data-route-step="1"]', { hasText: words.nobody }).waitFor()
      assert.match(await page.locator('[data-test=route-problem]').textContent(), words.noDecider)
      await screenshot(page, `routing-submit-nobody-${lang}`)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })

  for (const [width, viewport] of [
    ['1440', DESKTOP],
    ['375', PHONE],
  ]) {
    it(`has no critical or serious axe violations on the changed screens at ${width} px, ${lang}`, async () => {
      const admin = await as('admin', lang, viewport)
      const alice = await as('alice', lang, viewport)
      const screens = [
        [admin, '/admin/departments', '[data-test=routing-check] [data-stuck-department=HQ]'],
        [admin, '/admin/users', '[data-test=routing-check] [data-stuck-department=HQ]'],
        [admin, '/admin/rules', '[data-test=trial-rule]'],
        [alice, '/requests/new?kind=acquire', '[data-test=route-preview] [data-route-step="1"]'],
      ]
      for (const [{ page, unexpectedErrors }, path, ready] of screens) {
        await page.goto(path)
        if (path.startsWith('/requests/new')) await page.locator('[data-test=value]').fill('50')
        await page.locator(ready).first().waitFor({ timeout: 15_000 })
        await page.waitForFunction(() => document.getAnimations().length === 0)
        assert.deepEqual(await seriousViolations(page), [], path)
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the viewport`)
        await screenshot(page, `routing${path.replaceAll(/[/?=]/g, '-')}-${lang}-${width}`)
        assert.deepEqual(unexpectedErrors(), [])
      }
      // The New user dialog, with its department asked for.
      const { page } = admin
      await page.goto('/admin/users')
      await page.locator('[data-test=user-new]').click()
      await page.locator('[data-test=user-save]').click()
      await page.locator('[data-field=department_id] .el-form-item__error').waitFor()
      await page.waitForFunction(() => document.getAnimations().length === 0)
      assert.deepEqual(await seriousViolations(page), [], 'the New user dialog')
      await admin.context.close()
      await alice.context.close()
    })
  }
}
