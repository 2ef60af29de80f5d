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
})
