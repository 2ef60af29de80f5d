import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { i18n } from '@/i18n'
import RelativeTime from '@/components/RelativeTime.vue'

const minutesAgo = (n) => new Date(Date.now() - n * 60_000 - 5_000).toISOString()

function render(at, locale) {
  i18n.global.locale.value = locale
  return mount(RelativeTime, { props: { at }, global: { plugins: [i18n] } }).find('time')
}

describe('relative times', () => {
  it('says "3 minutes ago" with the absolute time in the title', () => {
    const at = minutesAgo(3)
    const time = render(at, 'en')
    expect(time.text()).toBe('3 minutes ago')
    expect(time.attributes('datetime')).toBe(at)
    expect(time.attributes('title')).toBe(
      new Date(at).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }),
    )
  })

  it('speaks Chinese and larger units', () => {
    expect(render(minutesAgo(3), 'zh-CN').text()).toBe('3分钟前')
    expect(render(minutesAgo(60 * 26), 'zh-CN').text()).toBe('昨天')
    expect(render(minutesAgo(60 * 24 * 3), 'en').text()).toBe('3 days ago')
    expect(render(new Date().toISOString(), 'en').text()).toBe('now')
    i18n.global.locale.value = 'en'
  })
})

describe('file sizes', () => {
  it('counts in 1024s, in the reader’s language', async () => {
    const { useFormat } = await import('./useFormat')
    const sizes = (locale) => {
      i18n.global.locale.value = locale
      const wrapper = mount({ template: '<i />', setup: () => useFormat() }, { global: { plugins: [i18n] } })
      const { fileSize } = wrapper.vm
      return [fileSize(611), fileSize(3053), fileSize(10 * 1024 * 1024)]
    }
    expect(sizes('en')).toEqual(['611 bytes', '3 kB', '10 MB'])
    expect(sizes('zh-CN')).toEqual(['611字节', '3 kB', '10 MB'])
    i18n.global.locale.value = 'en'
  })
})
