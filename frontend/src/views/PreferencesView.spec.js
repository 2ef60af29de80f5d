import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import PreferencesView from './PreferencesView.vue'
import { installFakeFetch, seedSession } from '@/testing/fakeFetch'
import { mountView, settle } from '@/testing/mountView'
import { useMetaStore } from '@/stores/meta'
import META from '@/testing/meta.json'

let net
let view

beforeEach(() => {
  localStorage.clear()
  seedSession()
  net = installFakeFetch({
    'GET /api/me/preferences': () => [200, { email: 'instant', digest_minutes: 45, language: 'zh-CN' }],
    'PUT /api/me/preferences': (call) => [200, call.body],
  })
})
afterEach(() => view?.wrapper.unmount())

const find = (sel) => view.wrapper.find(sel)
// The server's /api/meta with or without MAIL_URL.
const open = (emailConfigured = true) =>
  mountView(PreferencesView, {
    before: (pinia) => (useMetaStore(pinia).data = { ...META, email_configured: emailConfigured }),
  })

describe('preferences page', () => {
  it('shows the stored choices, and the digest interval only for a digest', async () => {
    view = await open()
    await settle()
    expect(find('[data-mode=instant] input').element.checked).toBe(true)
    expect(find('[data-language=zh-CN] input').element.checked).toBe(true)
    expect(find('[data-test=digest-minutes]').exists()).toBe(false)
    await find('[data-mode=digest] input').setValue(true)
    expect(find('[data-test=digest-minutes]').exists()).toBe(true)
  })

  it('saves all three with PUT', async () => {
    view = await open()
    await settle()
    await find('[data-mode=digest] input').setValue(true)
    await find('[data-language=en] input').setValue(true)
    await find('[data-test=preferences-form]').trigger('submit')
    await settle()
    expect(net.callsTo('PUT /api/me/preferences').map((c) => c.body)).toEqual([
      { email: 'digest', digest_minutes: 45, language: 'en' },
    ])
  })

  it('puts a refused field’s message under that field', async () => {
    net.route('PUT /api/me/preferences', () => [
      422,
      {
        error: {
          code: 'validation_error',
          message: 'Invalid input',
          details: { fields: { digest_minutes: ['Must be between 15 and 10080.'] } },
        },
      },
    ])
    view = await open()
    await settle()
    await find('[data-mode=digest] input').setValue(true)
    await find('[data-test=preferences-form]').trigger('submit')
    await settle()
    await new Promise((r) => setTimeout(r, 300)) // the message slides in
    const item = find('[data-test=digest-minutes]').element.closest('.el-form-item')
    expect(item.querySelector('.el-form-item__error')?.textContent).toContain('Must be between 15 and 10080.')
  })

  it('shows a load failure with a retry instead of an empty form', async () => {
    net.route('GET /api/me/preferences', () => [500, { error: { code: 'internal_error', message: 'boom' } }])
    view = await open()
    await settle()
    expect(find('[data-test=load-error]').exists()).toBe(true)
    expect(find('[data-test=preferences-form]').exists()).toBe(false)
  })

  it('says that e-mail is off on a server without mail, and offers no choice that would send none', async () => {
    view = await open(false)
    await settle()
    expect(find('[data-test=email-off]').text()).toContain('E-mail is not set up on this server')
    expect(find('[data-mode=instant] input').element.disabled).toBe(true)
    expect(find('[data-test=email-help]').exists()).toBe(false)
    expect(find('[data-test=save-preferences]').element.disabled).toBe(true)
  })

  it('says nothing of the kind when mail is set up', async () => {
    view = await open(true)
    await settle()
    expect(find('[data-test=email-off]').exists()).toBe(false)
    expect(find('[data-mode=instant] input').element.disabled).toBe(false)
  })
})
