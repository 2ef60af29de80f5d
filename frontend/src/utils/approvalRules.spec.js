import { describe, expect, it } from 'vitest'
import { fieldFor, formKeys, hasCatchAll, newRule, newStep, toDraft, toPayload, validateRules } from './approvalRules'

const SERVER_RULE = {
  match: { kinds: ['dispose'], departments: [3], min_value: '10000.00' },
  steps: [
    { decider: 'manager', remind_after_hours: 24, escalate_after_hours: 72, escalate_to: 'admin' },
    { decider: 'role', role: 'admin', scope: 'company' },
  ],
}

describe('approval rule drafts', () => {
  it('round-trips a server rule through the editor unchanged', () => {
    expect(toPayload(toDraft(SERVER_RULE))).toEqual(SERVER_RULE)
  })

  it('leaves empty conditions and optional step fields out, and sends hours as numbers', () => {
    const draft = newRule()
    draft.steps[0].remind_after_hours = '12.5'
    expect(toPayload(draft)).toEqual({
      match: {},
      steps: [{ decider: 'role', role: 'approver', scope: 'department', remind_after_hours: 12.5 }],
    })
  })

  it('carries a rule that requires a file as attachments: "required", and none otherwise', () => {
    const requiring = { ...SERVER_RULE, attachments: 'required' }
    expect(toDraft(requiring).filesRequired).toBe(true)
    expect(toPayload(toDraft(requiring))).toEqual(requiring)
    const draft = newRule()
    expect(toPayload(draft)).not.toHaveProperty('attachments')
    draft.filesRequired = true
    expect(toPayload(draft).attachments).toBe('required')
  })

  it('knows whether some rule matches every request', () => {
    const only = toDraft(SERVER_RULE)
    expect(hasCatchAll([only])).toBe(false)
    expect(hasCatchAll([only, newRule()])).toBe(true)
  })
})

describe('approval rule checks', () => {
  it('accepts a sound list', () => {
    expect(validateRules([toDraft(SERVER_RULE), newRule()])).toEqual({})
  })

  it('keys each mistake like the server does', () => {
    const bad = newRule()
    bad.match.min_value = '12.345'
    bad.steps = [
      { ...newStep(), role: '' },
      { ...newStep(), remind_after_hours: '-1', escalate_after_hours: '5' },
      { ...newStep(), escalate_to: 'admin' },
    ]
    const empty = newRule()
    empty.steps = []
    expect(validateRules([newRule(), bad, empty])).toEqual({
      'items.1.match.min_value': { key: 'money' },
      'items.1.steps.0.role': { key: 'required' },
      'items.1.steps.1.remind_after_hours': { key: 'hours' },
      'items.1.steps.1.escalate_to': { key: 'escalateTarget' },
      'items.1.steps.2.escalate_after_hours': { key: 'escalateHours' },
      'items.2.steps': { key: 'noSteps' },
    })
  })

  it('keeps at least one rule (the server takes 1–100)', () => {
    expect(validateRules([])).toEqual({ items: { key: 'noRules' } })
  })

  it('wants an escalation later than the reminder', () => {
    const rule = newRule()
    Object.assign(rule.steps[0], { remind_after_hours: '48', escalate_after_hours: '24', escalate_to: 'admin' })
    expect(validateRules([rule])).toEqual({ 'items.0.steps.0.escalate_after_hours': { key: 'escalateAfterRemind' } })
  })
})

describe('where a server error shows', () => {
  const keys = formKeys([toDraft(SERVER_RULE)])

  it('under its own field, or the nearest one above it', () => {
    expect(fieldFor('items.0.steps.1.role', keys)).toBe('items.0.steps.1.role')
    expect(fieldFor('items.0.match.kinds.0', keys)).toBe('items.0.match.kinds')
    expect(fieldFor('items.0.steps.1', keys)).toBe('items.0.steps')
  })

  it('nowhere when the form has no such rule (then above the form); the list’s own under the list', () => {
    expect(fieldFor('items.4.steps.0.role', keys)).toBeNull()
    expect(fieldFor('items', keys)).toBe('items')
  })
})
