// A real OpenID provider (panva's oidc-provider) for the single sign-on tests, on a loopback port.
//
// Usage: node oidc_provider.mjs <redirect uri> [<redirect uri> ...]
// Prints one JSON line {"issuer": "http://127.0.0.1:<port>"} once it listens, then serves until killed.
//
// Clients (all with the secret "sso-test-secret" and the redirect URIs given):
//   assetflow                  an honest client
//   assetflow-wrong-audience   its ID tokens name another audience (and this client as azp)
//   assetflow-bad-signature    its ID tokens are signed by a key the provider does not publish (same kid)
//   assetflow-no-nonce         its ID tokens lack the nonce
//   assetflow-expired          its ID tokens expired half an hour ago
// The four misbehaving clients get the provider's own ID token, rewritten on its way out of the token
// endpoint and signed again (with the provider's published key, except for bad-signature): everything
// else about them — discovery, PKCE, the code, the claims — is the provider's real work.
//
// The login page (/interaction/<uid>) is a plain form that asks which account signs in; no password.
// Test controls (loopback only, no authentication):
//   PUT  /__test/accounts/<sub>  {claims}   create or replace an account and the claims it releases
//   POST /__test/rotate                     sign with a new key from now on (the old one stays published)
//   GET  /__test/token-requests             what the token endpoint was sent: [{client_id, code_verifier}]
import http from 'node:http'
import Provider from 'oidc-provider'
import * as jose from 'jose'

const SECRET = 'sso-test-secret'
const MISBEHAVIOURS = ['wrong-audience', 'bad-signature', 'no-nonce', 'expired']
const redirectUris = process.argv.slice(2)
if (redirectUris.length === 0) throw new Error('usage: node oidc_provider.mjs <redirect uri> ...')

const accounts = new Map() // sub -> claims
const tokenRequests = []
let signingKeys = [] // newest first: the provider signs with the first
let provider = null
const foreignKey = await newKey()

async function newKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true })
  const jwk = await jose.exportJWK(privateKey)
  return { ...jwk, kid: `k-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, alg: 'RS256', use: 'sig' }
}

function misbehaviourOf(clientId) {
  const mode = clientId?.replace(/^assetflow-/, '')
  return MISBEHAVIOURS.includes(mode) ? mode : null
}

async function rewrite(idToken, mode, clientId) {
  const payload = jose.decodeJwt(idToken)
  const now = Math.floor(Date.now() / 1000)
  if (mode === 'wrong-audience') {
    // azp still names the client: only a check of aud itself refuses this token.
    Object.assign(payload, { aud: 'some-other-application', azp: clientId })
  }
  if (mode === 'no-nonce') delete payload.nonce
  if (mode === 'expired') Object.assign(payload, { iat: now - 3600, exp: now - 1800 })
  const key = mode === 'bad-signature' ? foreignKey : signingKeys[0]
  const signer = await jose.importJWK(key, 'RS256')
  // bad-signature keeps the published key's kid: the client finds that key, and the signature fails on it.
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: signingKeys[0].kid, typ: 'JWT' })
    .sign(signer)
}

function build(issuer) {
  const clients = ['assetflow', ...MISBEHAVIOURS.map((m) => `assetflow-${m}`)].map((clientId) => ({
    client_id: clientId,
    client_secret: SECRET,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }))
  const next = new Provider(issuer, {
    clients,
    jwks: { keys: signingKeys },
    cookies: { keys: ['sso-test-cookie-key'] },
    // The claims a scope releases; groups and department ride on profile, as a Keycloak mapper would add them.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'groups', 'department'],
    },
    // Release the scopes' claims in the ID token too, as Keycloak, Entra ID and Google do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true }, // no code without its verifier: the client must send one
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const claims = accounts.get(sub)
      return claims && { accountId: sub, claims: async () => ({ ...claims, sub }) }
    },
    // First-party client: consent is implied, so the only interaction is the login form.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId)
      if (grantId) return ctx.oidc.provider.Grant.find(grantId)
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      })
      grant.addOIDCScope('openid profile email')
      await grant.save()
      return grant
    },
  })
  next.use(async (ctx, nextMiddleware) => {
    const isToken = ctx.path === '/token' && ctx.method === 'POST'
    await nextMiddleware()
    if (!isToken) return
    const clientId = ctx.oidc?.client?.clientId
    tokenRequests.push({ client_id: clientId, code_verifier: ctx.oidc?.params?.code_verifier ?? null })
    const mode = misbehaviourOf(clientId)
    if (mode && ctx.status === 200 && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: await rewrite(ctx.body.id_token, mode, clientId) }
    }
  })
  return next
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function loginPage(uid, error = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body><main>
<h1>Test provider</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Account</label> <input id="login" name="login" autocomplete="username" autofocus>
<button type="submit">Sign in</button></form></main></body></html>`
}

async function readBody(req) {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type })
  res.end(typeof body === 'string' ? body : JSON.stringify(body))
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res)
  if (req.method === 'GET') return send(res, 200, loginPage(details.uid), 'text/html; charset=utf-8')
  const login = new URLSearchParams(await readBody(req)).get('login') || ''
  if (!accounts.has(login)) return send(res, 200, loginPage(details.uid, `No account ${login}`), 'text/html')
  await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false })
}

async function control(req, res) {
  const path = new URL(req.url, 'http://x').pathname
  if (req.method === 'PUT' && path.startsWith('/__test/accounts/')) {
    accounts.set(decodeURIComponent(path.slice('/__test/accounts/'.length)), JSON.parse(await readBody(req)))
    return send(res, 204, '')
  }
  if (req.method === 'POST' && path === '/__test/rotate') {
    signingKeys = [await newKey(), ...signingKeys]
    provider = build(provider.issuer)
    return send(res, 200, { kids: signingKeys.map((k) => k.kid) })
  }
  if (req.method === 'GET' && path === '/__test/token-requests') return send(res, 200, tokenRequests)
  return send(res, 404, { error: 'no such control' })
}

const server = http.createServer((req, res) => {
  const route = req.url.startsWith('/__test/') ? control : req.url.startsWith('/interaction/') ? interaction : null
  if (!route) return provider.callback()(req, res)
  route(req, res).catch((error) => send(res, 500, { error: String(error) }))
})

signingKeys = [await newKey()]
server.listen(0, '127.0.0.1', () => {
  provider = build(`http://127.0.0.1:${server.address().port}`)
  console.log(JSON.stringify({ issuer: provider.issuer }))
})
