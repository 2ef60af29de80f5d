// The receiver-side check docs/channels.md shows for Node, run against a body AssetFlow signed.
// Usage: node verify_signature.mjs <body file> <X-AssetFlow-Signature> <secret>  → prints true or false
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'

export function verified(rawBody, header, secret) {
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(rawBody).digest('hex'))
  const given = Buffer.from(header || '')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const [bodyFile, header, secret] = process.argv.slice(2)
console.log(verified(readFileSync(bodyFile), header, secret))
