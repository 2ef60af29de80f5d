import { describe, expect, it } from 'vitest'
import { defineComponent, h, nextTick } from 'vue'
import { mount, flushPromises } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { parseQuery, toQuery, useListQuery } from './useListQuery'

const DEFAULTS = { q: '', state: '', sort: '-created_at', page: 1, per_page: 20 }

describe('parseQuery / toQuery', () => {
  it('types numbers, falls back on bad ones and keeps only what differs from the defaults', () => {
    expect(parseQuery({ q: 'hinge', page: '3', per_page: 'x', other: '1' }, DEFAULTS)).toEqual({
      q: 'hinge', state: '', sort: '-created_at', page: 3, per_page: 20,
    })
    expect(toQuery({ ...DEFAULTS, q: 'hinge', page: 3 }, DEFAULTS)).toEqual({ q: 'hinge', page: '3' })
  })
})

async function mountList() {
  const loads = []
  const List = defineComponent({
    setup() {
      const list = useListQuery(DEFAULTS, (q) => loads.push(q))
      return () => h('div', { onClick: () => list.update({ state: 'pending' }) }, JSON.stringify(list.query.value))
    },
  })
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/list', name: 'list', component: List }, { path: '/other', name: 'other', component: { render: () => null } }],
  })
  router.push('/list?page=4&q=desk')
  await router.isReady()
  const wrapper = mount({ render: () => h(router.options.routes[0].component) }, { global: { plugins: [router] } })
  return { router, wrapper, loads }
}

describe('useListQuery', () => {
  it('loads from the URL, writes changes back (page to 1) and follows back/forward', async () => {
    const { router, wrapper, loads } = await mountList()
    expect(loads).toEqual([{ ...DEFAULTS, q: 'desk', page: 4 }])
    await wrapper.trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.query).toEqual({ q: 'desk', state: 'pending' })
    expect(loads.at(-1)).toEqual({ ...DEFAULTS, q: 'desk', state: 'pending', page: 1 })
    router.back()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 20))
    await nextTick()
    expect(router.currentRoute.value.query).toEqual({ page: '4', q: 'desk' })
    expect(loads.at(-1)).toEqual({ ...DEFAULTS, q: 'desk', page: 4 })
  })
})
