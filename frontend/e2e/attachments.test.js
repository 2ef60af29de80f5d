// Attachments in the browser, in English and in Chinese: files sent with a new request (with a refused
// executable named .pdf on the way), a drag-and-drop upload on the request page, a preview of an image and a
// PDF in the page, a download whose bytes are the file's, a rule that requires a file (set in the rules
// editor, announced by the submit form), and axe at 1440 and 375 px on the screens that show them.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { REPO, apiAs, startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, login, openPage, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'

const FIXTURES = join(REPO, 'tests', 'fixtures')
const PDF = readFileSync(join(FIXTURES, 'quote.pdf'))
const PNG = readFileSync(join(FIXTURES, 'photo.png'))
const ELF = readFileSync('/bin/true') // an executable
const REFUSED = { en: /was refused: its content is not a PDF/, 'zh-CN': /被拒绝：其内容不是 PDF/ }
const REQUIRED = { en: /Attachments required/, 'zh-CN': /需要附件/ }
const TITLE = { en: 'Attachments', 'zh-CN': '附件' }

let server
let browser
let adminApi
let aliceApi

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
    adminApi = await apiAs(server.url, 'admin')
    aliceApi = await apiAs(server.url, 'alice')
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

/** A signed-in page in `lang` at `viewport`. */
async function as(who, lang, viewport = DESKTOP) {
  const p = await openPage(browser, server.url, viewport)
  // Every frame runs it; the PDF preview's frame has no storage.
  await p.page.addInitScript((l) => window.localStorage?.setItem('assetflow.locale', JSON.stringify(l)), lang)
  await login(p.page, who)
  return p
}

const file = (name, buffer, mimeType = 'application/octet-stream') => ({ name, mimeType, buffer })

/** Fill the acquire form (no asset needed). */
async function fillAcquire(page, { name, category = 'Furniture', value = '300.00', reason }) {
  await page.goto('/requests/new?kind=acquire')
  await page.locator('[data-test=name]').fill(name)
  await page.locator('[data-test=category]').fill(category)
  await page.locator('[data-test=value]').fill(value)
  await page.locator('[data-test=reason]').fill(reason)
}

/** Drop files on the drop zone as a person dragging them from their desktop would. */
async function dropFiles(page, files) {
  const transfer = await page.evaluateHandle(
    (list) => {
      const data = new DataTransfer()
      for (const f of list) data.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }))
      return data
    },
    files.map((f) => ({ name: f.name, type: f.mimeType, bytes: [...f.buffer] })),
  )
  await page.dispatchEvent('[data-test=attachment-drop]', 'drop', { dataTransfer: transfer })
}

/** Record, from now on, whether a progress bar was ever shown (an upload on loopback is quick). */
const watchProgress = (page) =>
  page.evaluate(() => {
    window.__sawProgress = false
    new MutationObserver(() => {
      if (document.querySelector('[data-test=attachment-progress]')) window.__sawProgress = true
    }).observe(document.body, { childList: true, subtree: true })
  })

for (const lang of ['en', 'zh-CN']) {
  describe(`attachments, ${lang}`, { timeout: 300_000 }, () => {
    it('sends files with a new request; an executable named .pdf is refused under its name', async () => {
      const { page, context, allow, unexpectedErrors } = await as('alice', lang)
      allow(/415/) // the browser logs the refused upload itself
      await fillAcquire(page, { name: `Standing desk ${lang}`, reason: 'Quote and photo attached' })
      await page
        .locator('[data-test=attachment-input]')
        .setInputFiles([
          file('quote.pdf', PDF, 'application/pdf'),
          file('photo.png', PNG, 'image/png'),
          file('invoice.pdf', ELF, 'application/pdf'),
        ])
      await page.locator('[data-queued="invoice.pdf"]').waitFor()
      await watchProgress(page)
      await page.locator('[data-test=submit]').click()
      const refused = page.locator('[data-queued="invoice.pdf"] [data-test=attachment-error]')
      await refused.waitFor()
      assert.match(await refused.textContent(), REFUSED[lang])
      assert.equal(await page.locator('[data-queued="quote.pdf"] [data-test=attachment-error]').count(), 0)
      assert.equal(await page.evaluate(() => window.__sawProgress), true, 'each file showed its progress')
      // Nothing was stored: the request and its files are one transaction.
      const before = await aliceApi.get('/api/requests?scope=mine&per_page=100')
      assert.ok(!before.items.some((r) => r.name === `Standing desk ${lang}`))
      await screenshot(page, `attachments-submit-refused-${lang}-1440`)
      assert.deepEqual(await seriousViolations(page), [])

      await page.locator('[data-queued="invoice.pdf"] [data-test=attachment-dismiss]').click()
      await page.locator('[data-test=submit]').click()
      await page.waitForURL(/\/requests\/\d+$/)
      await page.locator('[data-attachment="quote.pdf"]').waitFor()
      await page.locator('[data-attachment="photo.png"]').waitFor()
      const id = Number(new URL(page.url()).pathname.split('/').pop())
      const files = (await aliceApi.get(`/api/requests/${id}/attachments`)).items
      assert.deepEqual(
        files.map((f) => [f.filename, f.content_type, f.size]),
        [
          ['quote.pdf', 'application/pdf', PDF.length],
          ['photo.png', 'image/png', PNG.length],
        ],
      )
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('uploads by drag and drop on the request page, previews an image and a PDF, downloads the bytes', async () => {
      const req = await aliceApi.post('/api/requests', {
        kind: 'acquire',
        reason: 'Photos follow',
        name: `Projector ${lang}`,
        category: 'AV',
        value: '800.00',
      })
      const { page, context, allow, unexpectedErrors } = await as('alice', lang)
      allow(/415/)
      await page.goto(`/requests/${req.id}`)
      await page.locator('[data-test=attachments] h2', { hasText: TITLE[lang] }).waitFor()
      await page.locator('[data-test=no-attachments]').waitFor()
      await watchProgress(page)
      await dropFiles(page, [file('photo.png', PNG, 'image/png'), file('quote.pdf', PDF, 'application/pdf')])
      await page.locator('[data-attachment="photo.png"]').waitFor()
      await page.locator('[data-attachment="quote.pdf"]').waitFor()
      assert.equal(await page.evaluate(() => window.__sawProgress), true, 'each upload showed its progress')
      // The timeline says who attached what.
      await page.locator('[data-test=timeline] [data-action=attach]').nth(1).waitFor()

      // The image, shown from the bytes fetched with the bearer token (a blob: URL, no token in it).
      await page.locator('[data-attachment="photo.png"] [data-test=attachment-preview]').click()
      const image = page.locator('[data-test=preview-image]')
      await image.waitFor()
      assert.match(await image.getAttribute('src'), /^blob:/)
      await page.waitForFunction(() => document.querySelector('[data-test=preview-image]')?.naturalWidth === 48)

      // The PDF in a frame of its own, from the file's bytes, fetched with the token in a header (never the URL).
      const fetched = []
      await page.route('**/api/attachments/*/content', async (route) => {
        const response = await route.fetch()
        fetched.push({ url: route.request().url(), headers: route.request().headers(), body: await response.body() })
        await route.fulfill({ response })
      })
      await page.locator('[data-attachment="quote.pdf"] [data-test=attachment-preview]').click()
      const frame = page.locator('[data-test=preview-pdf]')
      await frame.waitFor()
      // A blob: URL the page's policy lets a frame load (a refusal would be a console error, checked below).
      assert.match(await frame.getAttribute('src'), /^blob:/)
      assert.equal(fetched.length, 1)
      assert.deepEqual(fetched[0].body, PDF)
      assert.match(fetched[0].headers.authorization, /^Bearer /)
      assert.match(fetched[0].url, /\/content$/)
      await page.unroute('**/api/attachments/*/content')
      await screenshot(page, `attachments-detail-${lang}-1440`)
      assert.deepEqual(await seriousViolations(page), [])

      // A download is the file, byte for byte, under its name.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.locator('[data-attachment="quote.pdf"] [data-test=attachment-download]').click(),
      ])
      assert.equal(download.suggestedFilename(), 'quote.pdf')
      assert.deepEqual(readFileSync(await download.path()), PDF)

      // A refused type, said under its name; the list is as it was.
      await page.locator('[data-test=attachment-input]').setInputFiles([file('tool.pdf', ELF, 'application/pdf')])
      const refused = page.locator('[data-queued="tool.pdf"] [data-test=attachment-error]')
      await refused.waitFor()
      assert.match(await refused.textContent(), REFUSED[lang])
      assert.equal(await page.locator('[data-attachment]').count(), 2)

      // The uploader deletes one, after confirming.
      await page.locator('[data-attachment="photo.png"] [data-test=attachment-delete]').click()
      await page.locator('.el-message-box .el-message-box__btns .el-button--primary').click()
      await page.locator('[data-attachment="photo.png"]').waitFor({ state: 'detached' })
      assert.deepEqual(
        (await aliceApi.get(`/api/requests/${req.id}/attachments`)).items.map((f) => f.filename),
        ['quote.pdf'],
      )
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })

    it('the rules editor requires a file, and the submit form says so before submitting', async () => {
      const category = `Camera-${lang}`
      const rules = (await adminApi.get('/api/approval-rules')).items
      const approver = { decider: 'role', role: 'approver', scope: 'company' }
      await adminApi.put('/api/approval-rules', {
        items: [{ match: { categories: [category] }, steps: [approver] }, ...rules],
      })
      const admin = await as('admin', lang)
      await admin.page.goto('/admin/rules')
      const box = admin.page.locator('[data-rule="0"] [data-test=rule-files-required]')
      await box.waitFor()
      await box.click()
      await admin.page.locator('[data-test=rules-save]').click()
      await admin.page.locator('.el-message--success').waitFor()
      assert.equal((await adminApi.get('/api/approval-rules')).items[0].attachments, 'required')
      assert.deepEqual(admin.unexpectedErrors(), [])
      await admin.context.close()

      const { page, context, unexpectedErrors } = await as('alice', lang)
      await fillAcquire(page, { name: 'Camera body', category, value: '1500.00', reason: 'For the catalogue' })
      const notice = page.locator('[data-test=attachments-required]')
      await notice.waitFor()
      assert.match(await notice.textContent(), REQUIRED[lang])
      await page.locator('[data-test=submit]').click()
      await page.locator('[data-test=submit-files] .el-form-item__error').waitFor()
      assert.match(page.url(), /\/requests\/new/)
      await page.locator('[data-test=attachment-input]').setInputFiles([file('quote.pdf', PDF, 'application/pdf')])
      await page.locator('[data-test=submit]').click()
      await page.waitForURL(/\/requests\/\d+$/)
      await page.locator('[data-attachment="quote.pdf"]').waitFor()
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
      await adminApi.put('/api/approval-rules', { items: rules })
    })

    it('shows a request page with files and the submit form with a refused file at 375 px', async () => {
      const req = await aliceApi.post('/api/requests', {
        kind: 'acquire',
        reason: 'Small screen',
        name: `Tablet ${lang}`,
        category: 'Tablet',
        value: '500.00',
      })
      const { page, context, allow, unexpectedErrors } = await as('alice', lang, PHONE)
      allow(/415/)
      await page.goto(`/requests/${req.id}`)
      await page.locator('[data-test=attachment-input]').setInputFiles([file('photo.png', PNG, 'image/png')])
      await page.locator('[data-attachment="photo.png"] [data-test=attachment-preview]').click()
      await page.waitForFunction(() => document.querySelector('[data-test=preview-image]')?.naturalWidth === 48)
      await screenshot(page, `attachments-detail-${lang}-375`)
      assert.deepEqual(await seriousViolations(page), [])
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(overflow <= 0, `the request page is ${overflow}px wider than the viewport`)

      await fillAcquire(page, { name: 'Pen', reason: 'Refused file' })
      await page
        .locator('[data-test=attachment-input]')
        .setInputFiles([file('a-rather-long-file-name-for-a-small-screen.pdf', ELF, 'application/pdf')])
      await page.locator('[data-test=submit]').click()
      await page.locator('[data-test=attachment-error]').waitFor()
      await screenshot(page, `attachments-submit-refused-${lang}-375`)
      assert.deepEqual(await seriousViolations(page), [])
      const formOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.ok(formOverflow <= 0, `the submit form is ${formOverflow}px wider than the viewport`)
      assert.deepEqual(unexpectedErrors(), [])
      await context.close()
    })
  })
}
