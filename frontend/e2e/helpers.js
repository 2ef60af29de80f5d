// Small waits and look-ups shared by the browser tests.
import assert from 'node:assert/strict'

/** Poll `fn` until it returns a truthy value or `ms` pass. */
export async function eventually(fn, ms = 5000, what = 'condition') {
  const deadline = Date.now() + ms
  let last
  while (Date.now() < deadline) {
    last = await fn()
    if (last) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`)
}

/** An in-stock, unlocked asset below the high-value threshold (so one approval decides it). */
export async function freeAsset(api, taken) {
  const data = await api.get('/api/assets?status=in_stock&per_page=100')
  const asset = data.items.find((a) => !a.locked && Number(a.value) < 10000 && !taken.has(a.id))
  assert.ok(asset, 'the demo data has a free, low-value asset in stock')
  taken.add(asset.id)
  return asset
}

export const bellCount = async (page) => Number(await page.locator('[data-test=bell]').getAttribute('data-count'))

export const toasts = (page, text) => page.locator('.el-notification.live-toast').filter({ hasText: text })

/** Wait until the bell shows exactly what the server says is unread. */
export async function bellMatchesServer(page, api, ms = 5000) {
  return eventually(
    async () => {
      const { count } = await api.get('/api/notifications/unread-count')
      return (await bellCount(page)) === count ? count + 1 : 0
    },
    ms,
    'the bell to match the server unread count',
  ).then((n) => n - 1)
}

/** Where every toast and message on screen is, once each has stopped sliding in. */
export async function settledToasts(page) {
  const measure = () =>
    page.$$eval('.el-notification, .el-message', (els) =>
      els.filter((e) => e.getBoundingClientRect().width > 0).map((e) => e.getBoundingClientRect().toJSON()),
    )
  let last = null
  return eventually(
    async () => {
      const now = await measure()
      const still = now.length > 0 && JSON.stringify(now) === JSON.stringify(last)
      last = now
      return still && now
    },
    5000,
    'toasts on screen that have stopped moving',
  )
}

const overlap = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

/** Assert that no toast or message covers any element on screen that `selectors` find; how many were checked. */
export async function assertUncovered(page, selectors) {
  const toastBoxes = await settledToasts(page)
  let checked = 0
  for (const selector of selectors) {
    const targets = await page.$$eval(selector, (els) =>
      els.filter((e) => e.getClientRects().length > 0).map((e) => e.getBoundingClientRect().toJSON()),
    )
    assert.ok(targets.length > 0, `${selector} is on screen`)
    for (const target of targets) {
      checked += 1
      for (const toast of toastBoxes) {
        assert.ok(
          !overlap(toast, target),
          `a toast ${JSON.stringify(toast)} covers ${selector} ${JSON.stringify(target)}`,
        )
      }
    }
  }
  return checked
}

/** The header's controls a toast must leave clear: the bell, the language picker, the user's menu or "Menu". */
export const headerControls = (viewport) => [
  'header [data-test=bell]',
  'header [data-test=language]',
  viewport.width < 1024 ? 'header [data-test=menu]' : 'header [data-test=user-menu]',
]
