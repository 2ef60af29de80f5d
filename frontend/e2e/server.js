// Starts the real AssetFlow server (gunicorn + eventlet) on a free port with a
// throw-away SQLite database and the demo data, for the browser tests.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
export const REPO = resolve(here, '..', '..')
const PYTHON = process.env.ASSETFLOW_PYTHON || join(REPO, '.venv', 'bin', 'python')
const SETUP_TIMEOUT_MS = 120_000
const BOOT_TIMEOUT_MS = 30_000

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

function flask(env, args) {
  const res = spawnSync(PYTHON, ['-m', 'flask', '--app', 'wsgi', ...args], {
    cwd: REPO,
    env,
    encoding: 'utf8',
    timeout: SETUP_TIMEOUT_MS,
  })
  if (res.status !== 0) {
    throw new Error(`flask ${args.join(' ')} failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`)
  }
}

/** Run a Python snippet against the server's database and config; resolves to its stdout, trimmed. */
function python(env, code, args = []) {
  const res = spawnSync(PYTHON, ['-c', code, ...args], {
    cwd: REPO,
    env: { ...env, ASYNC_MODE: 'threading' },
    encoding: 'utf8',
    timeout: SETUP_TIMEOUT_MS,
  })
  if (res.status !== 0) throw new Error(`python failed (${res.status ?? res.signal}):\n${res.stderr}`)
  return res.stdout.trim()
}

// Each write budget's setting (config.py), set far above what a scenario writes.
const LIFTED_BUDGETS = `
import json
from config import WRITE_BUDGETS, budget_setting
print(json.dumps({budget_setting(b): "100000 per minute" for b in WRITE_BUDGETS}))
`

// What an approver's e-mail would carry: a one-click link token, signed with the server's secret.
const SIGN_EMAIL_LINK = `
import sys
import sqlalchemy as sa
from assetflow import create_app
from assetflow.extensions import db
from assetflow.models import Request, User
from assetflow.services.email_links import sign
with create_app().app_context():
    user = db.session.scalar(sa.select(User).where(User.username == sys.argv[1]))
    print(sign(user.id, db.session.get(Request, int(sys.argv[2])), sys.argv[3]))
`

async function waitHealthy(url, deadline) {
  while (Date.now() < deadline) {
    try {
      const res = await httpJson('GET', `${url}/healthz`)
      if (res.status === 200) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`server did not become healthy at ${url}`)
}

/**
 * Migrate, seed and serve (`env`: extra settings; `port`: one chosen before, e.g. for a redirect URI registered
 * elsewhere). Returns {url, port, stop(), restart(), log()}.
 */
export async function startServer({ env: extra = {}, port: chosenPort } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'assetflow-e2e-'))
  const port = chosenPort ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  const logFile = join(dir, 'server.log')
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite:///${join(dir, 'e2e.db')}`,
    FLASK_ENV: 'development',
    JWT_SECRET_KEY: `e2e-secret-${Math.random().toString(36).slice(2)}-${Date.now()}`,
    // No CORS_ORIGINS: the page's own origin is always accepted, on whatever port it is served.
    CORS_ORIGINS: '',
    ASYNC_MODE: 'eventlet',
    LOG_LEVEL: process.env.LOG_LEVEL || 'WARNING',
    // The scenarios seed data through the API far faster than a person writes (110 requests in a row):
    // every write budget is lifted, as for the Python suite's live servers (tests/live_server.py).
    ...JSON.parse(python(process.env, LIFTED_BUDGETS)),
    ...extra,
  }
  flask(env, ['db', 'upgrade'])
  flask(env, ['seed-demo'])

  let child = null
  async function boot() {
    const out = openSync(logFile, 'a')
    const args = [
      '-m',
      'gunicorn',
      '-c',
      'gunicorn.conf.py',
      '-w',
      '1',
      '-b',
      `127.0.0.1:${port}`,
      '--graceful-timeout',
      '3',
      'wsgi:app',
    ]
    // Its own process group, so stopping it also stops the worker it forks.
    child = spawn(PYTHON, args, { cwd: REPO, env, stdio: ['ignore', out, out], detached: true })
    const exited = new Promise((_, fail) =>
      child.once('exit', (code) => fail(new Error(`server exited (${code}); log:\n${log()}`))),
    )
    await Promise.race([waitHealthy(url, Date.now() + BOOT_TIMEOUT_MS), exited])
  }

  async function halt() {
    if (!child || child.exitCode !== null) return
    const group = -child.pid
    const signal = (sig) => {
      try {
        process.kill(group, sig)
      } catch {
        // already gone
      }
    }
    const gone = new Promise((r) => child.once('exit', r))
    signal('SIGTERM')
    const timer = setTimeout(() => signal('SIGKILL'), 8000)
    await gone
    clearTimeout(timer)
    // The worker may outlive the master by a moment; make sure the group is gone.
    signal('SIGKILL')
  }

  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000)
    } catch {
      return ''
    }
  }

  await boot()
  return {
    url,
    port,
    log,
    /** Stop the process, keep the database: the next boot sees the same data. */
    halt,
    boot,
    /** The token of an e-mail's approve / reject link for `username` on request `requestId`. */
    emailLinkToken: (username, requestId, action) =>
      python(env, SIGN_EMAIL_LINK, [username, String(requestId), action]),
    async restart() {
      await halt()
      await boot()
    },
    async stop() {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * One HTTP request on a fresh connection. Node's fetch keeps connections alive
 * longer than gunicorn does (2 s), so a reused one can be closed under it.
 */
function httpJson(method, url, { headers = {}, body } = {}) {
  const data = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: false,
        timeout: 10_000,
        headers: {
          ...headers,
          ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => {
          let json
          try {
            json = text ? JSON.parse(text) : null
          } catch {
            json = text
          }
          resolvePromise({ status: res.statusCode, data: json })
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)))
    req.on('error', reject)
    if (data) req.write(data)
    req.end()
  })
}

/** A tiny HTTP client for arranging data behind the browser's back. */
export async function apiAs(url, username, password = 'assetflow-demo') {
  const login = await httpJson('POST', `${url}/api/auth/login`, { body: { username, password } })
  if (login.status !== 200) throw new Error(`login ${username}: ${login.status}`)
  const { access_token: token, refresh_token: refreshToken, user } = login.data
  const call = async (method, path, body) => {
    const res = await httpJson(method, `${url}${path}`, { headers: { Authorization: `Bearer ${token}` }, body })
    if (res.status >= 400) {
      throw Object.assign(new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.data)}`), res)
    }
    return res.data
  }
  return {
    user,
    token,
    refreshToken,
    get: (p) => call('GET', p),
    post: (p, b = {}) => call('POST', p, b),
    patch: (p, b = {}) => call('PATCH', p, b),
    put: (p, b = {}) => call('PUT', p, b),
    del: (p) => call('DELETE', p),
  }
}

export { freePort, httpJson }
