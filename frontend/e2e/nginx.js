// deploy/nginx.conf in Debian's nginx, in front of the e2e server: the very site the docs ship, with
// only the addresses of its `listen` and upstream `server` lines moved to loopback test ports (as
// tests/test_deploy.py does). nginx runs as this process's child, on its own prefix in a temporary
// directory. Missing nginx fails in CI (CI=true) and skips elsewhere (`make nginx` installs it).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO, freePort } from './server.js'

const START_TIMEOUT_MS = 20_000

export function nginxBinary() {
  const found = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p))
  if (!found && process.env.CI === 'true') throw new Error('nginx is required in CI (make nginx)')
  return found ?? null
}

/** The shipped site with its listen and upstream addresses on test ports; nothing else changed. */
export function renderSite(upstreamPorts, listenPort) {
  let text = readFileSync(join(REPO, 'deploy', 'nginx.conf'), 'utf8')
  const shipped = [...text.matchAll(/^\s*server 127\.0\.0\.1:(\d+)/gm)].map((m) => m[1])
  if (!/^\s*listen 80;/m.test(text) || shipped.length !== upstreamPorts.length) {
    throw new Error('deploy/nginx.conf changed shape: update renderSite')
  }
  text = text.replace(/^(\s*)listen 80;/m, `$1listen 127.0.0.1:${listenPort};`)
  shipped.forEach((port, i) => {
    text = text.replace(`server 127.0.0.1:${port} `, `server 127.0.0.1:${upstreamPorts[i]} `)
  })
  return text
}

function listening(url) {
  return new Promise((ok) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume()
      ok(true)
    })
    req.on('error', () => ok(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

/** Start nginx in front of `upstreamPort` (both of the site's upstream lines). Returns {url, stop()}. */
export async function startNginx(binary, upstreamPort) {
  const dir = mkdtempSync(join(tmpdir(), 'assetflow-nginx-'))
  const port = await freePort()
  writeFileSync(join(dir, 'assetflow.conf'), renderSite([upstreamPort, upstreamPort], port))
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => {
    mkdirSync(join(dir, kind))
    return `  ${kind}_temp_path ${join(dir, kind)};`
  })
  const user = process.getuid?.() === 0 ? 'user root;\n' : '' // workers must reach the temporary directory
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${user}worker_processes 1;\nerror_log ${join(dir, 'error.log')} warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log ${join(dir, 'access.log')};\n${temp.join('\n')}\n  include ${join(dir, 'assetflow.conf')};\n}\n`,
  )
  const child = spawn(
    binary,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!(await listening(url))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await gone
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
