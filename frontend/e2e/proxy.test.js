// One scenario through deploy/nginx.conf (docs/deploy.md, "nginx in front"): the page, the API and
// the WebSocket all pass nginx, whose X-Forwarded-Host / -Proto tell the server (PROXY_COUNT=1) the
// page's own origin, so its socket is accepted with no CORS_ORIGINS; a decision shows up live.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { apiAs, startServer } from './server.js'
import { launchBrowser, login, openPage } from './browser.js'
import { freeAsset } from './helpers.js'
import { nginxBinary, startNginx } from './nginx.js'

const binary = nginxBinary()
let server
let proxy
let browser

before(
  async () => {
    if (!binary) return
    server = await startServer({ env: { PROXY_COUNT: '1' } })
    proxy = await startNginx(binary, server.port)
    browser = await launchBrowser()
  },
  { timeout: 180_000 },
)

after(async () => {
  await browser?.close().catch(() => {})
  await proxy?.stop()
  await server?.stop()
})

describe('behind nginx', { skip: binary ? false : 'nginx is not installed (make nginx)', timeout: 120_000 }, () => {
  it('serves the app, upgrades its WebSocket and accepts its own origin: a new request shows up live', async () => {
    const bob = await openPage(browser, proxy.url)
    const sockets = []
    bob.page.on('websocket', (ws) => sockets.push(ws.url()))
    await login(bob.page, 'bob')
    await bob.page.goto('/dashboard')
    await bob.page.locator('[data-test=inbox], [data-test=empty]').first().waitFor()

    const alice = await apiAs(proxy.url, 'alice')
    const asset = await freeAsset(alice, new Set())
    const request = await alice.post('/api/requests', { kind: 'assign', asset_id: asset.id, reason: 'through nginx' })
    await bob.page.locator(`[data-inbox-id="${request.id}"]`).waitFor({ timeout: 5000 })

    const { port } = new URL(proxy.url)
    assert.ok(sockets.length > 0, 'no WebSocket was opened')
    assert.ok(
      sockets.every((url) => url.startsWith(`ws://127.0.0.1:${port}/socket.io/`)),
      `sockets not through nginx: ${sockets}`,
    )
    assert.deepEqual(bob.unexpectedErrors(), [])
    await bob.context.close()
  })
})
