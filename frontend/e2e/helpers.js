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
