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
  it('says what happened: who approved which step, and who it waits for now by name', () => {
    const { summary, byline } = texts()
    const named = { ...advanced, waiting_for: { names: ['Ada Admin'], count: 1 } }
    expect(summary(named)).toBe('Bob Li approved step 1 of 2 — waiting for Ada Admin')
    expect(byline(named)).toBe('Assign request #7 for AST-001011')
    // An older payload without names: the role.
    expect(summary(advanced)).toBe('Bob Li approved step 1 of 2 — waiting for an admin')
  })

  it('names a few of many and counts the rest', () => {
    const { waitingFor } = texts()
    expect(waitingFor({ waiting_for: { names: ['Ada', 'Bob'], count: 2 } })).toBe('Ada or Bob')
    expect(waitingFor({ waiting_for: { names: ['Ada', 'Bob', 'Cy'], count: 5 } })).toBe('Ada, Bob, Cy or 2 others')
  })

  it('says the same in Chinese, with the role translated', () => {
    const { summary, waitingFor } = texts('zh-CN')
    expect(summary(advanced)).toBe('Bob Li 批准了第 1/2 步 — 等待管理员审批')
    expect(summary({ ...advanced, waiting_for: { names: ['Ada Admin'], count: 1 } })).toBe(
      'Bob Li 批准了第 1/2 步 — 等待Ada Admin审批',
    )
    expect(waitingFor({ waiting_for: { names: ['甲', '乙', '丙'], count: 4 } })).toBe('甲、乙、丙或另外 1 人')
    expect(summary(update(2, { action: 'reject', status: 'rejected' }))).toBe(
      'Bob Approver 驳回了领用申请 #7（AST-001011）',
    )
    i18n.global.locale.value = 'en'
  })

  it('headlines submissions and final decisions by who did what, the comment below', () => {
    const { summary, byline } = texts()
    const approved = update(2, { status: 'approved', action: 'approve', comment: 'ok' })
    expect(summary(approved)).toBe('Bob Approver approved Assign request #7 for AST-001011')
    expect(byline(approved)).toBe('“ok”')
    const submitted = update(3, { status: 'pending', action: 'submit', actor: { id: 1, name: 'Alice' } })
    expect(summary(submitted)).toBe('Alice submitted Assign request #7 for AST-001011')
    expect(byline(submitted)).toBe('')
    expect(summary(update(4, { status: 'withdrawn', action: 'withdraw', actor: { id: 1, name: 'Alice' } }))).toBe(
      'Alice withdrew Assign request #7 for AST-001011',
    )
    expect(
      summary(update(5, { status: 'pending', action: 'resubmit', asset_tag: null, actor: { name: 'Alice' } })),
    ).toBe('Alice resubmitted Assign request #7')
  })

  it('keeps the state headline and "by X" for a payload that does not say what happened', () => {
    const { summary, byline } = texts()
    const old = update(2, { status: 'approved' })
    expect(summary(old)).toBe('Assign request #7 for AST-001011: Approved')
    expect(byline(old)).toBe('by Bob Approver')
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
    const { summary } = texts()
    const p = update(3, { action: 'approve', actor: { id: 4, name: 'Bob', on_behalf_of: { id: 5, name: 'Erik' } } })
    expect(summary(p)).toBe('Bob on behalf of Erik approved Assign request #7 for AST-001011')
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
    const escalated = update(6, {
      action: 'escalate',
      status: 'pending',
      step: 2,
      steps_total: 2,
      actor: null,
      comment: 'Ada Admin',
      waiting_for: { names: ['Ada Admin', 'Bob Li'], count: 2 },
    })
    expect(summary(escalated)).toBe('Step 2 of 2 escalated — waiting for Ada Admin or Bob Li')
    expect(byline(escalated)).toBe('Assign request #7 for AST-001011 — “Ada Admin”')
  })

  it('says them in Chinese too', () => {
    const { summary } = texts('zh-CN')
    const comment = update(4, { event: 'request_comment', status: 'pending', body: 'x', actor: { id: 3, name: 'Bob' } })
    expect(summary(comment)).toBe('Bob 评论了领用申请 #7（AST-001011）')
    expect(summary({ ...comment, count: 3 })).toBe('领用申请 #7（AST-001011）有 3 条评论，最新一条来自Bob')
    i18n.global.locale.value = 'en'
  })
})
