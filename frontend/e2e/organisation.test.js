// Issue 10 in the browser, in English and in Chinese: the admin screens (departments, users,
// approval rules), a delegation, the request page's chain by name, live comments and resubmit.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { choose, launchBrowser, openAs, openPage, screenshot } from './browser.js'
import { freeAsset } from './helpers.js'

let server
let browser
let adminApi
let aliceApi
let bobApi
const taken = new Set()
const HEADINGS = {
  en: { departments: 'Departments', rules: 'Approval rules', delegations: 'Delegations' },
  'zh-CN': { departments: '部门', rules: '审批规则', delegations: '委托' },
}

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    adminApi = await apiAs(server.url, 'admin')
    aliceApi = await apiAs(server.url, 'alice')
    bobApi = await apiAs(server.url, 'bob')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

/** A signed-in page in `lang`. */
const as = (who, lang) => openAs(browser, server.url, who, lang)

const confirmBox = (page) => page.locator('.el-message-box .el-message-box__btns .el-button--primary').click()

/** A small acquire by Alice (Engineering): one step, decided by an approver of her department. */
const smallAcquire = (reason) =>
  aliceApi.post('/api/requests', { kind: 'acquire', reason, name: 'USB hub', category: 'Peripheral', value: '45.00' })

for (const lang of ['en', 'zh-CN']) {
  const tag = lang === 'en' ? 'EN' : 'ZH'

  describe(`organisation, ${lang}`, { timeout: 300_000 }, () => {
    it('admin creates a department and moves a user into it', async () => {
      const code = `QA-${tag}`
      const name = lang === 'en' ? 'Quality' : '质量部'
      const username = `e2e-move-${tag.toLowerCase()}`
      const user = await adminApi.post('/api/users', {
        username,
        password: 'assetflow-demo-e2e',
        display_name: `Mover ${tag}`,
        role: 'employee',
      })
      const { page, context, unexpectedErrors } = await as('admin', lang)
      await page.goto('/admin/departments')
      await page.locator('h1', { hasText: HEADINGS[lang].departments }).waitFor()
      await page.locator('[data-department-id]').first().waitFor()
      await page.locator('[data-test=department-new]').click()
      await page.locator('[data-test=department-name]').fill(name)
      await page.locator('[data-test=department-code]').fill(code.toLowerCase())
      await page.locator('[data-test=department-save]').click()
      // The code is upper-cased as typed; the new department sits in the tree below the company.
      const node = page.locator(`[data-code="${code}"]`)
      await node.waitFor()
      assert.match(await node.textContent(), new RegExp(name))
      await screenshot(page, `org-departments-${lang}`)

      await page.locator('[data-test=admin-nav] a').nth(1).click()
      await page.waitForURL(/\/admin\/users/)
      await page.locator('[data-test=user-search]').fill(username)
      await page.locator(`[data-edit-user="${user.id}"]`).click()
      await choose(page, '[data-test=user-department]', name)
      await page.locator('[data-test=user-save]').click()
      await page.locator(`[data-user-department="${user.id}"]`, { hasText: name }).waitFor()
      const { items } = await adminApi.get(`/api/users?q=${username}`)
      assert.equal(items[0].department.name, name)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('admin deactivates a signed-in user, after a warning, and their open page ends at once', async () => {
      const username = `e2e-leaver-${tag.toLowerCase()}`
      const user = await adminApi.post('/api/users', {
        username,
        password: 'assetflow-demo-e2e',
        display_name: `Leaver ${tag}`,
        role: 'employee',
      })
      const leaver = await openPage(browser, server.url)
      await leaver.page.goto('/login')
      await leaver.page.locator('[data-test=username]').fill(username)
      await leaver.page.locator('[data-test=password]').fill('assetflow-demo-e2e')
      await leaver.page.locator('[data-test=login-submit]').click()
      await leaver.page.locator('[data-test=connection][data-status=live]').waitFor()
      // Its session ends under it: the browser logs the refused refresh (401) on the way out.
      leaver.allow(/401/)

      const { page, context, unexpectedErrors } = await as('admin', lang)
      await page.goto(`/admin/users?q=${username}`)
      await page.locator(`[data-edit-user="${user.id}"]`).click()
      await page.locator('[data-test=user-active]').click()
      await page.locator('[data-test=user-save]').click()
      await page.locator('.el-message-box').waitFor()
      assert.match(
        await page.locator('.el-message-box').textContent(),
        lang === 'en' ? /sessions end at once/ : /立即结束/,
      )
      await confirmBox(page)
      await page
        .locator(`[data-user-active="${user.id}"]`, { hasText: lang === 'en' ? 'Inactive' : '已停用' })
        .waitFor()
      await leaver.page.waitForURL(/\/login/, { timeout: 10_000 })
      assert.deepEqual(unexpectedErrors(), [])
      assert.deepEqual(leaver.unexpectedErrors(), [])
      await leaver.context.close()
      await context.close()
    })

    it('admin edits and saves a rule, and sees the server refuse a bad one next to its field', async () => {
      const { page, context, allow, unexpectedErrors } = await as('admin', lang)
      await page.goto('/admin/rules')
      await page.locator('h1', { hasText: HEADINGS[lang].rules }).waitFor()
      const last = page.locator('[data-rule]').last()
      await last.waitFor()
      const hours = lang === 'en' ? '12' : '6'
      await last.locator('[data-test=step-remind]').first().fill(hours)
      await page.locator('[data-test=rules-save]').click()
      await page.locator('.el-message--success').first().waitFor()
      const saved = await adminApi.get('/api/approval-rules')
      assert.equal(saved.items.at(-1).steps[0].remind_after_hours, Number(hours))
      assert.equal(saved.default, false)
      await page.locator('[data-change-id]').first().waitFor()

      // More hours than the server takes (a year at most) pass the client's checks (escalation later
      // than the reminder, with a target) and come back as a 422 keyed
      // `items.<last>.steps.0.remind_after_hours`: the message shows under that field.
      allow(/422/)
      const lastRule = `[data-rule="${(await page.locator('[data-rule]').count()) - 1}"]`
      await last.locator('[data-test=step-remind]').first().fill('9000')
      await last.locator('[data-test=step-escalate]').first().fill('9500')
      await choose(page, `${lastRule} [data-test=step-escalate-to]`, lang === 'en' ? 'All admins' : '所有管理员')
      await page.locator('[data-test=rules-save]').click()
      const field = last.locator('.el-form-item', { has: page.locator('[data-test=step-remind]') }).first()
      await field.locator('.el-form-item__error').waitFor()
      await page.locator('[data-test=rules-error]').waitFor()
      await screenshot(page, `org-rules-422-${lang}`)
      const after = await adminApi.get('/api/approval-rules')
      assert.deepEqual(after.items, saved.items, 'a refused save changes nothing')
      // The unsaved edit is not lost to a click on a link: the page asks, and "Cancel" stays.
      await page.locator('[data-test=admin-nav] a').first().click()
      await page.locator('.el-message-box').waitFor()
      await page.locator('.el-message-box__btns .el-button:not(.el-button--primary)').click()
      await page.locator('.el-message-box').waitFor({ state: 'hidden' })
      assert.match(new URL(page.url()).pathname, /\/admin\/rules$/)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('an approver delegates to a colleague, sees it active, and deletes it', async () => {
      const { page, context, unexpectedErrors } = await as('bob', lang)
      await page.goto('/delegations')
      await page.locator('h1', { hasText: HEADINGS[lang].delegations }).waitFor()
      await page.locator('[data-section=given]').waitFor()
      await page.locator('[data-test=delegation-new]').click()
      await page.locator('[data-test=delegation-delegate]').click()
      await page.keyboard.type('erik')
      await page.locator('.el-select-dropdown__item:visible', { hasText: 'erik' }).first().click()
      await page.locator('[data-test=delegation-note]').fill(`Holiday ${tag}`)
      await page.locator('[data-test=delegation-save]').click()
      const row = page.locator('[data-section=given] .el-table__row', { hasText: `Holiday ${tag}` })
      await row.locator('[data-state=active]').waitFor()
      const { items } = await bobApi.get('/api/delegations')
      const made = items.find((d) => d.note === `Holiday ${tag}`)
      assert.ok(made?.active, 'the server has it, active')
      assert.equal(made.delegate.id, (await apiAs(server.url, 'erik')).user.id)
      await screenshot(page, `org-delegations-${lang}`)
      await page.locator(`[data-delete-delegation="${made.id}"]`).click()
      await confirmBox(page)
      await row.waitFor({ state: 'detached' })
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('the request page shows the chain by name', async () => {
      const req = await smallAcquire(`Chain ${tag}`)
      const detail = await aliceApi.get(`/api/requests/${req.id}`)
      const names = detail.steps[0].deciders.map((d) => d.display_name)
      assert.ok(names.length, 'the first step has named deciders')
      const { page, context, unexpectedErrors } = await as('alice', lang)
      await page.goto(`/requests/${req.id}`)
      const step = page.locator('[data-test=chain] [data-step="1"]')
      await step.waitFor()
      assert.equal(await step.getAttribute('data-step-state'), 'current')
      for (const name of names) assert.ok((await step.textContent()).includes(name), `${name} is named`)
      await screenshot(page, `org-chain-${lang}`)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('the dashboard filters the queue by department', async () => {
      const req = await smallAcquire(`Filter ${tag}`)
      const { department } = await aliceApi.get(`/api/requests/${req.id}`)
      const other = (await bobApi.get('/api/departments')).items.find((d) => d.id !== department.id && d.parent_id)
      const { page, context, unexpectedErrors } = await as('bob', lang)
      await page.goto('/dashboard')
      await page.locator(`[data-inbox-id="${req.id}"]`).waitFor()
      await choose(page, '[data-test=department-filter]', other.name)
      await page.waitForURL((u) => u.searchParams.get('department_id') === String(other.id))
      await page.locator(`[data-inbox-id="${req.id}"]`).waitFor({ state: 'detached' })
      await page.goto(`/dashboard?department_id=${department.id}`)
      await page.locator(`[data-inbox-id="${req.id}"]`).waitFor()
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('a comment posted by one user appears live on the other’s request page', async () => {
      const req = await smallAcquire(`Comments ${tag}`)
      const alice = await as('alice', lang)
      const bob = await as('bob', lang)
      await alice.page.goto(`/requests/${req.id}`)
      await bob.page.goto(`/requests/${req.id}`)
      await alice.page.locator('[data-test=comment-form]').waitFor()
      await bob.page.locator('[data-test=comment-form]').waitFor()
      // In one language the applicant writes first, in the other the approver.
      const [writer, reader] = lang === 'en' ? [alice, bob] : [bob, alice]
      const body = `Which model? (${tag} ${Date.now()})`
      await writer.page.locator('[data-test=comment-body]').fill(body)
      await writer.page.locator('[data-test=comment-post]').click()
      await writer.page.locator('[data-comment-id]', { hasText: body }).waitFor()
      await reader.page.locator('[data-comment-id]', { hasText: body }).waitFor({ timeout: 3000 })
      assert.equal(await writer.page.locator('[data-comment-id]', { hasText: body }).count(), 1)
      await screenshot(reader.page, `org-comments-${lang}`)
      assert.deepEqual(alice.unexpectedErrors(), [])
      assert.deepEqual(bob.unexpectedErrors(), [])
      await alice.context.close()
      await bob.context.close()
    })

    it('resubmits a rejected request and links the two', async () => {
      const asset = await freeAsset(aliceApi, taken)
      const req = await aliceApi.post('/api/requests', {
        kind: 'assign',
        asset_id: asset.id,
        reason: `Resubmit ${tag}`,
      })
      await bobApi.post(`/api/requests/${req.id}/reject`, { comment: 'Add a quote' })
      const { page, context, unexpectedErrors } = await as('alice', lang)
      await page.goto(`/requests/${req.id}`)
      await page.locator('[data-test=detail-state] [data-state=rejected]').waitFor()
      await page.locator('[data-test=resubmit]').click()
      await page.locator('.el-message-box textarea').fill(`Resubmit ${tag}, quote attached`)
      await confirmBox(page)
      await page.waitForURL((u) => /\/requests\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${req.id}`))
      const next = Number(new URL(page.url()).pathname.split('/').pop())
      await page.locator('[data-test=detail-state] [data-state=pending]').waitFor()
      await page.locator('[data-test=previous-request]').waitFor()
      const created = await aliceApi.get(`/api/requests/${next}`)
      assert.equal(created.previous_id, req.id)
      assert.equal(created.reason, `Resubmit ${tag}, quote attached`)
      await page.locator('[data-test=previous-request]').click()
      await page.locator(`[data-next-request="${next}"]`).waitFor()
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })
}
