// The simulator asked after a pause, the latest answer kept: against the fake network, the real store.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h, nextTick, ref } from 'vue'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { useSimulation } from './useSimulation'

const answer = (index) => ({ rule: { index, match: {} }, steps: [], problems: [], applicant: null, department: {} })
let net
let wrapper

function harness(body) {
  let state
  wrapper = mount(
    defineComponent({
      setup() {
        state = useSimulation(() => body.value, 400)
        return () => h('div')
      },
    }),
  )
  return state
}

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  seedSession()
  net = installFakeFetch()
})
afterEach(() => {
  wrapper?.unmount()
  vi.useRealTimers()
})

/** Let the pause pass and the fake network answer. */
async function pause(ms = 400) {
  await vi.advanceTimersByTimeAsync(ms)
  await nextTick()
}

describe('useSimulation', () => {
  it('asks once after a pause in the changes, for the last body', async () => {
    net.route('POST /api/approval-rules/simulate', (c) => [200, answer(Number(c.body.value))])
    const body = ref({ kind: 'acquire', value: '1' })
    const state = harness(body)
    body.value = { kind: 'acquire', value: '12' }
    await pause(200)
    body.value = { kind: 'acquire', value: '3' }
    await nextTick()
    await pause()
    expect(net.callsTo('POST /api/approval-rules/simulate').map((c) => c.body.value)).toEqual(['3'])
    expect(state.result.value.rule.index).toBe(3)
    expect(state.loading.value).toBe(false)
  })

  it('drops an older answer that arrives after a newer question', async () => {
    let release
    net.route('POST /api/approval-rules/simulate', (c) =>
      c.body.value === 'slow' ? new Promise((r) => (release = () => r([200, answer(1)]))) : [200, answer(2)],
    )
    const body = ref({ kind: 'acquire', value: 'slow' })
    const state = harness(body)
    await pause()
    body.value = { kind: 'acquire', value: 'fast' }
    await nextTick()
    await pause()
    release()
    await pause(0)
    expect(state.result.value.rule.index).toBe(2)
  })

  it('keeps a 422 apart from other failures, and asks nothing for a null body', async () => {
    net.route('POST /api/approval-rules/simulate', () => [
      422,
      { error: { code: 'validation_error', message: 'No department with id 9', details: {} } },
    ])
    const body = ref(null)
    const state = harness(body)
    await pause()
    expect(net.callsTo('POST /api/approval-rules/simulate')).toHaveLength(0)
    body.value = { kind: 'acquire', department_id: 9 }
    await nextTick()
    await pause()
    expect(state.refused.value.message).toBe('No department with id 9')
    expect(state.error.value).toBeNull()
    body.value = null
    await nextTick()
    expect([state.result.value, state.refused.value, state.loading.value]).toEqual([null, null, false])
  })
})
