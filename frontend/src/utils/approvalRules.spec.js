import { describe, expect, it } from 'vitest'
import {
  fieldFor,
  formKeys,
  hasCatchAll,
  newRule,
  newStep,
  problemsByRule,
  toDraft,
  toPayload,
  trialBody,
  validateRules,
} from './approvalRules'

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

describe('new rules and steps take their neighbours’ timers', () => {
  it('a new rule copies the reminder, escalation and target of the first step of the rule above', () => {
    const above = toDraft(SERVER_RULE)
    expect(newRule(above).steps[0]).toEqual({
      decider: 'role',
      role: 'approver',
      scope: 'department',
      remind_after_hours: '24',
      escalate_after_hours: '72',
      escalate_to: 'admin',
    })
    // Only the timers: what it matches and who decides start fresh.
    expect(newRule(above).match).toEqual({ kinds: [], categories: [], departments: [], min_value: '' })
  })

  it('a new step copies the step above it; with no neighbour both start without timers', () => {
    const second = toDraft(SERVER_RULE).steps[1]
    expect(newStep(second)).toMatchObject({ remind_after_hours: '', escalate_after_hours: '', escalate_to: '' })
    expect(newStep({ remind_after_hours: '8', escalate_after_hours: '', escalate_to: '' }).remind_after_hours).toBe('8')
    expect(newRule().steps[0]).toMatchObject({ remind_after_hours: '', escalate_after_hours: '', escalate_to: '' })
  })
})

describe('trying the draft', () => {
  const drafts = [toDraft(SERVER_RULE), newRule()]
  const trial = { kind: 'acquire', value: '', category: '', department_id: null, applicant_id: null }

  it('sends the draft as saving would, with only what was filled in', () => {
    expect(trialBody(trial, drafts, {})).toEqual({ kind: 'acquire', rules: drafts.map(toPayload) })
    const filled = { ...trial, value: ' 5000 ', category: 'Laptop', department_id: 3, applicant_id: 7 }
    expect(trialBody(filled, drafts, {})).toMatchObject({
      value: '5000',
      category: 'Laptop',
      department_id: 3,
      applicant_id: 7,
    })
    // A value that is not money yet is left out rather than refused.
    expect(trialBody({ ...trial, value: '12.345' }, drafts, {})).not.toHaveProperty('value')
  })

  it('asks nothing while the draft has marked errors or no rules', () => {
    expect(trialBody(trial, drafts, { 'items.0.match.min_value': { key: 'money' } })).toBeNull()
    expect(trialBody(trial, [], {})).toBeNull()
  })

  it('files the list’s problems under the rule they are about, leaving the request’s own out', () => {
    const problems = [
      { code: 'no_decider', step: 1, label: 'approver' },
      { code: 'shadowed', rule: 2, by: 0 },
      { code: 'nobody', rule: 0, step: 1, label: 'approver', departments: [{ id: 1, name: 'Company' }] },
      { code: 'shadowed', rule: 0, by: 0 },
    ]
    expect(problemsByRule(problems)).toEqual({ 0: [problems[2], problems[3]], 2: [problems[1]] })
    expect(problemsByRule(undefined)).toEqual({})
  })
})
