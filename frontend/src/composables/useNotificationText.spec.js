import { describe, expect, it } from 'vitest'
import { createApp } from 'vue'
import { i18n } from '@/i18n'
import { update } from '@/testing/fakeFetch'
import { useNotificationText } from './useNotificationText'

function texts(locale = 'en') {
  i18n.global.locale.value = locale
  let api
  createApp({
    setup() {
      api = useNotificationText()
      return () => null
    },
  })
    .use(i18n)
    .mount(document.createElement('div'))
  return api
}

const advanced = update(1, {
  status: 'pending',
  action: 'advance',
  step: 2,
  steps_total: 2,
  required_role: 'admin',
  actor: { id: 3, name: 'Bob Li' },
})

describe('notification text', () => {
  it('says a step was approved and who decides next, not "Pending — by Bob"', () => {
    const { byline } = texts()
    expect(byline(advanced)).toBe('Step 1 of 2 approved by Bob Li — waiting for an admin')
  })

  it('says the same in Chinese, with the role translated', () => {
    const { byline } = texts('zh-CN')
    expect(byline(advanced)).toBe('第 1/2 步已由 Bob Li 批准 — 等待管理员审批')
    i18n.global.locale.value = 'en'
  })

  it('keeps "by X" for a submission and a final decision', () => {
    const { byline } = texts()
    expect(byline(update(2, { status: 'approved', action: 'approve', comment: 'ok' }))).toBe('by Bob Approver — “ok”')
    expect(byline(update(3, { status: 'pending', action: 'submit', actor: { id: 1, name: 'Alice' } }))).toBe('by Alice')
  })

  it('tells a final approval from an advanced step in decision results', () => {
    const { decided } = texts()
    expect(decided('approve', 7, { state: 'approved', step: 1, steps_total: 1 })).toBe('Request #7 approved')
    expect(decided('approve', 8, { state: 'pending', step: 2, steps_total: 2, required_role: 'admin' })).toBe(
      'Request #8: step 1 of 2 approved — waiting for an admin',
    )
    expect(decided('reject', 9, { state: 'rejected' })).toBe('Request #9 rejected')
  })

  it('names a delegate and the person they decided for', () => {
    const { byline } = texts()
    const p = update(3, { action: 'approve', actor: { id: 4, name: 'Bob', on_behalf_of: { id: 5, name: 'Erik' } } })
    expect(byline(p)).toBe('by Bob on behalf of Erik')
  })

  it('words comments, reminders, escalations and resubmissions', () => {
    const { summary, byline } = texts()
    const comment = update(4, {
      event: 'request_comment',
      status: 'pending',
      body: 'Which one?',
      actor: { id: 3, name: 'Bob' },
    })
    expect(summary(comment)).toBe('Bob commented on Assign request #7 for AST-001011')
    expect(byline(comment)).toBe('“Which one?”')
    const burst = { ...comment, count: 3, body: 'And now?' }
    expect(summary(burst)).toBe('3 comments on Assign request #7 for AST-001011, the latest by Bob')
    expect(byline(burst)).toBe('“And now?”')
    const reminder = update(5, { event: 'approval_reminder', status: 'pending', waiting_since: '2026-11-26T09:00:00Z' })
    expect(summary(reminder)).toBe('Reminder: Assign request #7 for AST-001011 is waiting for your decision')
    expect(byline(reminder)).toMatch(/^Step 1 of 1, waiting since /)
    expect(byline(update(6, { action: 'escalate', status: 'pending', step: 2, steps_total: 2, actor: null }))).toBe(
      'Step 2 of 2 was escalated: you may decide it now',
    )
    expect(byline(update(7, { action: 'resubmit', status: 'pending', actor: { id: 1, name: 'Alice' } }))).toBe(
      'Resubmitted by Alice',
    )
  })

  it('says them in Chinese too', () => {
    const { summary } = texts('zh-CN')
    const comment = update(4, { event: 'request_comment', status: 'pending', body: 'x', actor: { id: 3, name: 'Bob' } })
    expect(summary(comment)).toBe('Bob 评论了领用申请 #7（AST-001011）')
    expect(summary({ ...comment, count: 3 })).toBe('领用申请 #7（AST-001011）有 3 条评论，最新一条来自Bob')
    i18n.global.locale.value = 'en'
  })
})
