import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import BulkResults from './BulkResults.vue'

const RESULTS = [
  { id: 1, ok: true, request: { id: 1, state: 'approved', step: 1, steps_total: 1 } },
  { id: 2, ok: true, request: { id: 2, state: 'pending', step: 2, steps_total: 2 } },
  {
    id: 3,
    ok: false,
    status: 409,
    error: { code: 'conflict', message: 'Request 3 was already decided by Carol Approver' },
  },
]

function render(locale) {
  i18n.global.locale.value = locale
  const wrapper = mount(BulkResults, { props: { results: RESULTS }, global: { plugins: [i18n] } })
  const text = (id) => wrapper.find(`[data-result="${id}"] div`).text()
  return { wrapper, text }
}

describe('bulk approval results', () => {
  it('tells a final approval from a request that moved on to the admin step', () => {
    const { text } = render('en')
    expect(text(1)).toBe('Approved')
    expect(text(2)).toBe('Step 1 of 2 approved — now step 2')
  })

  it('shows a refusal in the UI language, not a raw 409, with the server message as detail', () => {
    const { text } = render('zh-CN')
    expect(text(3)).toContain('已被他人先行处理')
    expect(text(3)).not.toMatch(/^409/)
    expect(text(3)).toContain('already decided by Carol Approver')
    i18n.global.locale.value = 'en'
  })
})
