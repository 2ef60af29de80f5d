import { afterEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import DecisionContext from './DecisionContext.vue'

const HOUR = 3600_000
const at = (ms) => new Date(Date.now() + ms).toISOString()

const REQUEST = {
  id: 7,
  kind: 'assign',
  state: 'pending',
  reason: 'A second screen\nfor the design work',
  asset: { id: 11, tag: 'AST-001011', name: 'Dell U2720Q', value: '3200.00', currency: 'CNY' },
  applicant: { id: 1, display_name: 'Alice Chen' },
  department: { id: 3, name: 'Engineering' },
  value: null,
  currency: null,
  due_at: at(3 * HOUR + 60_000),
  overdue: false,
}

function render(component, props, locale = 'en') {
  i18n.global.locale.value = locale
  return mount(component, { props, global: { plugins: [i18n] } })
}
const field = (wrapper, name) => wrapper.find(`[data-field=${name}]`).text()

afterEach(() => {
  i18n.global.locale.value = 'en'
})

describe('decision context', () => {
  it('shows the asset by name and tag, its value, the applicant and department, the reason, files and due time', () => {
    const w = render(DecisionContext, { request: REQUEST })
    expect(field(w, 'asset')).toBe('Dell U2720Q · AST-001011')
    expect(field(w, 'value')).toBe('CN¥3,200.00')
    expect(field(w, 'applicant')).toBe('Alice Chen · Engineering')
    expect(field(w, 'reason')).toBe('A second screen\nfor the design work')
    expect(field(w, 'attachments')).toBe('none') // no attachments_count from the server yet: 0
    expect(field(w, 'due')).toBe('Due in 3 hours')
  })

  it('counts files, takes an acquire’s own value and name, and shows no due time for a decided request', () => {
    const acquire = {
      ...REQUEST,
      kind: 'acquire',
      asset: null,
      name: 'ThinkPad X1',
      category: 'Laptop',
      value: '9800.00',
      currency: 'USD',
      attachments_count: 2,
      state: 'approved',
      due_at: null,
    }
    const w = render(DecisionContext, { request: acquire })
    expect(field(w, 'asset')).toBe('ThinkPad X1 · Laptop')
    expect(field(w, 'value')).toBe('$9,800.00')
    expect(field(w, 'attachments')).toBe('2 files')
    expect(w.find('[data-field=due]').exists()).toBe(false)
  })

  it('speaks Chinese', () => {
    const w = render(DecisionContext, { request: { ...REQUEST, attachments_count: 1 } }, 'zh-CN')
    expect(field(w, 'due')).toBe('3小时后到期')
    expect(field(w, 'attachments')).toBe('1 个文件')
    expect(w.find('dt').text()).toBe('资产')
  })
})
