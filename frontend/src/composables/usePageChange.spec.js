import { describe, expect, it } from 'vitest'
import { i18n } from '@/i18n'
import { pageTitle } from './usePageChange'

const t = (...args) => i18n.global.t(...args)

describe('page title', () => {
  it('names the page, and the request on a detail page', () => {
    i18n.global.locale.value = 'en'
    expect(pageTitle(t, { meta: { title: 'nav.dashboard' } })).toBe('Dashboard · AssetFlow')
    expect(pageTitle(t, { meta: { title: 'detail.title' }, params: { id: '12' } })).toBe('Request #12 · AssetFlow')
  })

  it('starts with the unread count when there is one', () => {
    expect(pageTitle(t, { meta: { title: 'nav.requests' } }, 3)).toBe('(3) My requests · AssetFlow')
    expect(pageTitle(t, { meta: { title: 'nav.requests' } }, 0)).toBe('My requests · AssetFlow')
  })

  it('follows the UI language, and so does <html lang>', async () => {
    i18n.global.locale.value = 'zh-CN'
    await Promise.resolve()
    expect(pageTitle(t, { meta: { title: 'nav.notifications' } }, 2)).toBe('(2) 通知 · AssetFlow')
    expect(document.documentElement.lang).toBe('zh-CN')
    i18n.global.locale.value = 'en'
    await Promise.resolve()
    expect(document.documentElement.lang).toBe('en')
  })
})
