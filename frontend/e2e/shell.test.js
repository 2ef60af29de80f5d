// Issue 20, the app's shell as a first-time user meets it, in English and Chinese: where each role lands,
// and the header from 1,440 px down to 375 px — an admin's links whole down to 1,024 px, a "Menu" button
// in words below that, the language picker in the header at every width. Toasts are in
// shell-toasts.test.js, the smaller fixes in shell-edges.test.js (one file each: a file must finish
// within the runner's 300 s).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startServer } from './server.js'
import { DESKTOP, PHONE, launchBrowser, openAs, screenshot } from './browser.js'
import { seriousViolations } from './a11y.js'

const TEXT = {
  en: { menu: 'Menu', assets: 'Assets', preferences: 'Preferences' },
  'zh-CN': { menu: '菜单', assets: '资产', preferences: '偏好设置' },
}

let server
let browser

before(
  async () => {
    server = await startServer()
    browser = await launchBrowser()
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await server?.stop()
})

const open = (who, lang, viewport) => openAs(browser, server.url, who, lang, viewport)

async function done(p) {
  const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`)
  assert.deepEqual(p.unexpectedErrors(), [])
  await p.context.close()
}

describe('each role lands on its own start page', { timeout: 120_000 }, () => {
  for (const [who, home] of [
    ['alice', '/requests'],
    ['bob', '/dashboard'],
    ['admin', '/dashboard'],
  ]) {
    it(`${who} → ${home}, after signing in and on /`, async () => {
      const p = await open(who, 'en')
      assert.equal(new URL(p.page.url()).pathname, home)
      await p.page.goto('/')
      await p.page.waitForURL((u) => u.pathname === home)
      await p.page.locator('main h1').waitFor()
      // A signed-in user sent to the login page goes to the start page too.
      await p.page.goto('/login')
      await p.page.waitForURL((u) => u.pathname === home)
      await done(p)
    })
  }

  it('a link that asked for a page still leads there after signing in', async () => {
    const p = await open(null, 'en')
    await p.page.goto('/assets')
    await p.page.waitForURL(/\/login\?redirect=/)
    await p.page.locator('[data-test=username]').fill('bob')
    await p.page.locator('[data-test=password]').fill('assetflow-demo')
    await p.page.locator('[data-test=login-submit]').click()
    await p.page.waitForURL((u) => u.pathname === '/assets')
    await done(p)
  })
})

/** The header's links: how many, and whether each is whole inside the bar (none scrolled out of sight). */
function barLinks(page) {
  return page.evaluate(() => {
    const nav = document.querySelector('[data-test=nav-links]')
    if (!nav) return { count: 0, whole: true }
    const bar = nav.getBoundingClientRect()
    const links = [...nav.querySelectorAll('a')].map((a) => a.getBoundingClientRect())
    const inside = links.every((r) => r.left >= bar.left - 0.5 && r.right <= bar.right + 0.5)
    return { count: links.length, whole: nav.scrollWidth <= nav.clientWidth && inside }
  })
}

const inHeader = (page, selector) => page.locator(`header.app-header ${selector}`)

for (const lang of ['en', 'zh-CN']) {
  const text = TEXT[lang]

  describe(`header, ${lang}`, { timeout: 240_000 }, () => {
    for (const width of [1440, 1280, 1024]) {
      it(`shows an admin's seven links whole at ${width} px, the language picker and the user menu`, async () => {
        const p = await open('admin', lang, { width, height: 800 })
        assert.deepEqual(await barLinks(p.page), { count: 7, whole: true })
        assert.equal(await inHeader(p.page, '[data-test=menu]').count(), 0)
        assert.ok(await inHeader(p.page, '[data-test=language]').isVisible())
        if (width === 1280) {
          await screenshot(p.page, `shell-header-${lang}-1280`)
          await inHeader(p.page, '[data-test=user-menu]').click()
          await p.page.locator('.el-dropdown-menu__item:visible', { hasText: text.preferences }).click()
          await p.page.waitForURL(/\/preferences$/)
        }
        await done(p)
      })
    }

    for (const width of [1000, 375]) {
      it(`folds the links into a menu named in words at ${width} px; the language picker stays`, async () => {
        const p = await open('admin', lang, { width, height: 800 })
        const { page } = p
        assert.equal((await barLinks(page)).count, 0)
        const menu = page.getByRole('button', { name: text.menu, exact: true })
        assert.equal(await menu.count(), 1)
        assert.equal((await menu.innerText()).trim(), text.menu, 'the button says "Menu", not only an icon')
        assert.ok(await inHeader(page, '[data-test=language]').isVisible())
        const wider = await page.locator('header.app-header').evaluate((h) => h.scrollWidth - h.clientWidth)
        assert.ok(wider <= 0, `the header is ${wider}px too wide`)
        await menu.click()
        const item = page.locator('.el-dropdown-menu__item:visible', {
          hasText: new RegExp(`^\\s*${text.assets}\\s*$`),
        })
        await item.waitFor()
        await screenshot(page, `shell-menu-${lang}-${width}`)
        if (width === 375) assert.deepEqual(await seriousViolations(page), [])
        await item.click()
        await page.waitForURL(/\/assets$/)
        await done(p)
      })
    }

    it('switches the language from the header on a phone', async () => {
      const p = await open('alice', lang, PHONE)
      const other = lang === 'en' ? 'zh-CN' : 'en'
      await inHeader(p.page, '[data-test=language]').click()
      await p.page.locator(`.el-select-dropdown__item[lang="${other}"]:visible`).click()
      await p.page.waitForFunction((l) => document.documentElement.lang === l, other)
      await done(p)
    })

    // The header on every other screen is axe-checked by a11y.test.js; the page a role may not open is new.
    for (const viewport of [DESKTOP, PHONE]) {
      it(`the "not allowed" page passes axe at ${viewport.width} px`, async () => {
        const p = await open('alice', lang, viewport)
        await p.page.goto('/admin/users')
        await p.page.locator('[data-test=forbidden] h1').waitFor()
        await screenshot(p.page, `shell-forbidden-${lang}-${viewport.width}`)
        assert.deepEqual(await seriousViolations(p.page), [])
        await done(p)
      })
    }
  })
}
