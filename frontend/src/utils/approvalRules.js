// The approval-rule editor's data: a rule from the server as an editable draft, the draft back as
// the body of PUT /api/approval-rules, the checks worth making before sending, and where a
// server error key (`items.1.steps.0.role`) shows on the form.

export const DECIDERS = ['manager', 'role']
export const DECIDER_ROLES = ['approver', 'admin']
export const SCOPES = ['department', 'company']
export const ESCALATE_TO = ['manager', 'approver', 'admin']
const MATCH_FIELDS = ['kinds', 'categories', 'departments', 'min_value']
const STEP_FIELDS = ['decider', 'role', 'scope', 'remind_after_hours', 'escalate_after_hours', 'escalate_to']
const MONEY = /^\d{1,12}(\.\d{1,2})?$/
// The server's bounds (docs/api.md, Approval rules).
export const MAX_RULES = 100
export const MAX_STEPS = 10

const text = (v) => (v === null || v === undefined ? '' : String(v))

const TIMERS = ['remind_after_hours', 'escalate_after_hours', 'escalate_to']

/** A new step: an approver of the applicant's department, with the timers of `neighbour` (a step) if given. */
export function newStep(neighbour) {
  const step = {
    decider: 'role',
    role: 'approver',
    scope: 'department',
    remind_after_hours: '',
    escalate_after_hours: '',
    escalate_to: '',
  }
  for (const key of TIMERS) if (neighbour) step[key] = neighbour[key] ?? ''
  return step
}

/** A new rule: matches everything, one step with the timers of the first step of `above` (a rule) if given,
 * files optional. */
export function newRule(above) {
  return {
    match: { kinds: [], categories: [], departments: [], min_value: '' },
    steps: [newStep(above?.steps[0])],
    filesRequired: false,
  }
}

/** A server rule as an editable draft: every field present, numbers as text for the inputs. */
export function toDraft(rule) {
  const match = rule.match || {}
  return {
    match: {
      kinds: [...(match.kinds || [])],
      categories: [...(match.categories || [])],
      departments: [...(match.departments || [])],
      min_value: text(match.min_value),
    },
    steps: (rule.steps || []).map((s) => ({
      decider: s.decider || 'role',
      role: s.role || (s.decider === 'manager' ? '' : 'approver'),
      scope: s.scope || 'company',
      remind_after_hours: text(s.remind_after_hours),
      escalate_after_hours: text(s.escalate_after_hours),
      escalate_to: s.escalate_to || '',
    })),
    // `attachments: "required"` on the server: a request the rule matches needs a file.
    filesRequired: rule.attachments === 'required',
  }
}

function stepPayload(s) {
  const out = { decider: s.decider }
  if (s.decider === 'role') Object.assign(out, { role: s.role, scope: s.scope || 'company' })
  if (text(s.remind_after_hours).trim()) out.remind_after_hours = Number(s.remind_after_hours)
  if (text(s.escalate_after_hours).trim()) out.escalate_after_hours = Number(s.escalate_after_hours)
  if (s.escalate_to) out.escalate_to = s.escalate_to
  return out
}

/** A draft as the server takes it: empty conditions left out (an empty match matches everything). */
export function toPayload(draft) {
  const match = {}
  for (const key of ['kinds', 'categories', 'departments']) {
    if (draft.match[key].length) match[key] = [...draft.match[key]]
  }
  if (draft.match.min_value.trim()) match.min_value = draft.match.min_value.trim()
  return { match, steps: draft.steps.map(stepPayload), ...(draft.filesRequired ? { attachments: 'required' } : {}) }
}

const hours = (v) => {
  const s = text(v).trim()
  if (!s) return null
  const n = Number(s)
  return Number.isFinite(n) && n > 0 ? n : NaN
}

function stepErrors(s, at, errors) {
  if (!DECIDERS.includes(s.decider)) errors[`${at}.decider`] = { key: 'required' }
  if (s.decider === 'role' && !DECIDER_ROLES.includes(s.role)) errors[`${at}.role`] = { key: 'required' }
  const remind = hours(s.remind_after_hours)
  const escalate = hours(s.escalate_after_hours)
  if (Number.isNaN(remind)) errors[`${at}.remind_after_hours`] = { key: 'hours' }
  if (Number.isNaN(escalate)) errors[`${at}.escalate_after_hours`] = { key: 'hours' }
  if (escalate && !s.escalate_to) errors[`${at}.escalate_to`] = { key: 'escalateTarget' }
  if (s.escalate_to && escalate === null) errors[`${at}.escalate_after_hours`] = { key: 'escalateHours' }
  if (remind && escalate && escalate <= remind) errors[`${at}.escalate_after_hours`] = { key: 'escalateAfterRemind' }
}

/** The checks worth making before sending: `{ 'items.0.steps.1.role': {key, ...params} }`. */
export function validateRules(drafts) {
  const errors = {}
  if (!drafts.length) errors.items = { key: 'noRules' }
  drafts.forEach((rule, i) => {
    const minValue = rule.match.min_value.trim()
    if (minValue && !MONEY.test(minValue)) errors[`items.${i}.match.min_value`] = { key: 'money' }
    if (!rule.steps.length) errors[`items.${i}.steps`] = { key: 'noSteps' }
    rule.steps.forEach((s, j) => stepErrors(s, `items.${i}.steps.${j}`, errors))
  })
  return errors
}

/** Whether some rule matches every request (else a request no rule matches is refused at submit). */
export const hasCatchAll = (drafts) => drafts.some((r) => !Object.keys(toPayload(r).match).length)

/** Every key a field of the editor shows an error under. */
export function formKeys(drafts) {
  const keys = new Set(['items'])
  drafts.forEach((rule, i) => {
    for (const f of MATCH_FIELDS) keys.add(`items.${i}.match.${f}`)
    keys.add(`items.${i}.steps`)
    keys.add(`items.${i}.attachments`)
    rule.steps.forEach((_, j) => STEP_FIELDS.forEach((f) => keys.add(`items.${i}.steps.${j}.${f}`)))
  })
  return keys
}

/**
 * Where a server error key shows: itself when the form has that field, else the nearest field
 * above it (`items.0.match.kinds.2` → `items.0.match.kinds`, `items.0.match` → `items.0.match.kinds`'s
 * rule…); `null` when none (the message goes above the form).
 */
export function fieldFor(key, keys) {
  const parts = key.split('.')
  // Only the list's own error goes under the list; one about a rule not on screen goes above the form.
  while (parts.length > 1) {
    const candidate = parts.join('.')
    if (keys.has(candidate)) return candidate
    parts.pop()
  }
  return keys.has(key) ? key : null
}

/**
 * The simulator's body for the editor's "try the draft" (POST /api/approval-rules/simulate), or null while
 * the draft has errors the form shows (the server would refuse it) or there is no rule yet.
 */
export function trialBody(trial, drafts, errors) {
  if (!drafts.length || Object.keys(errors).length || !trial.kind) return null
  const body = { kind: trial.kind, rules: drafts.map(toPayload) }
  const value = text(trial.value).trim()
  if (value && MONEY.test(value)) body.value = value
  if (text(trial.category).trim()) body.category = text(trial.category).trim()
  for (const key of ['department_id', 'applicant_id']) if (trial[key]) body[key] = trial[key]
  return body
}

/** The simulator's problems with the list itself (`shadowed`, `nobody`), by the rule they are about. */
export function problemsByRule(problems) {
  const byRule = {}
  for (const p of problems || []) {
    if (p.code === 'shadowed' || p.code === 'nobody') (byRule[p.rule] ||= []).push(p)
  }
  return byRule
}
