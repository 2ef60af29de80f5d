import { afterEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import DueTime from './DueTime.vue'

// Its own file: the clock relative times tick with is one per module, started by the first render here, with
// fake timers in place.
const HOUR = 3600_000
const at = (ms) => new Date(Date.now() + ms).toISOString()

function render(props, locale = 'en') {
  i18n.global.locale.value = locale
  return mount(DueTime, { props, global: { plugins: [i18n] } })
}

afterEach(() => {
  i18n.global.locale.value = 'en'
})

describe('due time', () => {
  it('says "Overdue" once the time has passed, without a refetch, and keeps the absolute time in the title', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval'] })
    const due = at(20 * 60_000)
    const w = render({ at: due })
    expect(w.text()).toBe('Due in 20 minutes')
    expect(w.attributes('data-overdue')).toBe('false')
    expect(w.find('time').attributes('datetime')).toBe(due)
    vi.advanceTimersByTime(2 * HOUR + 20 * 60_000) // the shared clock ticks every 30 s
    await w.vm.$nextTick()
    expect(w.text()).toBe('Overdue (due 2 hours ago)')
    expect(w.attributes('data-overdue')).toBe('true')
  })

  it('says so when a step has no due time, in both languages', () => {
    expect(render({ at: null }).text()).toBe('No due time')
    expect(render({ at: at(-HOUR) }, 'zh-CN').text()).toBe('已逾期（1小时前到期）')
  })
})
