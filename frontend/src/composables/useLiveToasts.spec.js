import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { ElNotification } from 'element-plus'
import { useNotificationsStore } from '@/stores/notifications'
import { ALICE, installFakeFetch, seedSession, update } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'
import { useLiveToasts } from './useLiveToasts'

const Host = defineComponent({
  setup() {
    useLiveToasts()
    return () => h('div')
  },
})

let fresh
let mounted
const shown = []

class FakeNotification {
  static permission = 'granted'
  static requestPermission = vi.fn(async () => 'granted')
  constructor(title, options) {
    shown.push({ title, ...options })
  }
}

function setHidden(hidden) {
  Object.defineProperty(document, 'hidden', { value: hidden, configurable: true })
}

async function mountHost({ phone = false } = {}) {
  vi.stubGlobal('matchMedia', (q) => ({
    matches: phone && q.includes('max-width'),
    addEventListener() {},
    removeEventListener() {},
  }))
  // The toasts hook into the store's "fresh" announcements; capture the handler they register.
  const before = () => {
    useNotificationsStore().onFresh = (handler) => {
      fresh = handler
      return () => {}
    }
  }
  mounted = await mountView(Host, { before })
}

beforeEach(() => {
  localStorage.clear()
  seedSession(ALICE)
  installFakeFetch()
  shown.length = 0
  ElNotification.closeAll()
  vi.stubGlobal('Notification', FakeNotification)
})
afterEach(() => {
  mounted?.wrapper.unmount()
  setHidden(false)
})

describe('live toasts', () => {
  // Issue 20: under the header they covered the page's state tag, "Mark all read" and the dashboard's counts.
  for (const phone of [false, true]) {
    it(`sit at the bottom right, clear of the header and the page's head (${phone ? 'phone' : 'desktop'})`, async () => {
      await mountHost({ phone })
      fresh([update(phone ? 2 : 1)])
      await settle()
      const toast = document.querySelector('.el-notification.live-toast')
      expect(toast.style.bottom).toBe('16px')
      expect(toast.style.top).toBe('')
      expect(toast.classList.contains('right')).toBe(true)
    })
  }

  it('raise a browser notification only while the tab is hidden, and never ask on load', async () => {
    await mountHost()
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled()
    fresh([update(3)])
    expect(shown).toHaveLength(0)
    setHidden(true)
    fresh([update(4, { status: 'rejected' })])
    expect(shown).toHaveLength(1)
    expect(shown[0].title).toContain('#7')
    expect(shown[0].tag).toBe('assetflow-104')
  })
})
