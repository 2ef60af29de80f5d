import { describe, expect, it } from 'vitest'
import { generateSecret, toUpdatePayload, validateWebhook, webhookForm } from './webhookRules'

const HOOK = { id: 1, url: 'https://erp.example.com/hook', events: ['request.approved'], active: true }

describe('webhook rules', () => {
  it('asks a new webhook for an http(s) URL, an event and a secret of 16 to 200 characters', () => {
    const form = { url: 'ftp://x', events: [], secret: 'short' }
    expect(validateWebhook(form, false)).toEqual({
      url: { key: 'httpUrl' },
      events: { key: 'chooseEvent' },
      secret: { key: 'secretLength', min: 16, max: 200 },
    })
    expect(
      validateWebhook({ url: 'http://127.0.0.1:9/', events: ['request.approved'], secret: 'x'.repeat(16) }, false),
    ).toEqual({})
  })

  it('keeps the old secret when an edit leaves it empty', () => {
    const form = webhookForm(HOOK)
    expect(form.secret).toBe('')
    expect(validateWebhook(form, true)).toEqual({})
    expect(toUpdatePayload(form, HOOK)).toEqual({})
  })

  it('sends only what an edit changed', () => {
    const form = { ...webhookForm(HOOK), events: ['request.approved', 'request.rejected'], secret: 'y'.repeat(20) }
    expect(toUpdatePayload(form, HOOK)).toEqual({
      events: ['request.approved', 'request.rejected'],
      secret: 'y'.repeat(20),
    })
  })

  it('generates 64 hex digits from the CSPRNG, different each time', () => {
    const a = generateSecret()
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(generateSecret()).not.toBe(a)
  })
})
