import { describe, expect, it } from 'vitest'
import { computed, createApp, ref } from 'vue'
import { i18n } from '@/i18n'
import { useFormErrors } from './useFormErrors'

// A composable that uses i18n must run inside a component's setup.
function setup(initialErrors = {}) {
  const client = ref(initialErrors)
  let errors
  const app = createApp({
    setup() {
      errors = useFormErrors(
        computed(() => client.value),
        (e) => `msg:${e.key}`,
      )
      return () => null
    },
  })
  app.use(i18n).mount(document.createElement('div'))
  return { client, errors }
}

const refusal = (status, message, fields) =>
  Object.assign(new Error(message), { status, message, details: fields ? { fields } : {} })

describe('useFormErrors', () => {
  it('shows client errors only after a submit attempt, and does not send', async () => {
    const { errors } = setup({ name: { key: 'required' } })
    expect(errors.fieldError('name')).toBe('')
    let sent = false
    await errors.submit(async () => {
      sent = true
    })
    expect(sent).toBe(false)
    expect(errors.fieldError('name')).toBe('msg:required')
  })

  it('puts a 422 under its fields and a bare refusal above the form', async () => {
    const { errors } = setup()
    await errors.submit(async () => {
      throw refusal(422, 'Invalid input', { tag: ['Too long', 'Bad'] })
    })
    expect(errors.fieldError('tag')).toBe('Too long Bad')
    expect(errors.generalError.value).toBe('')
    await errors.submit(async () => {
      throw refusal(409, 'Taken')
    })
    expect(errors.fieldError('tag')).toBe('')
    expect(errors.generalError.value).toBe('Taken')
    expect(errors.busy.value).toBe(false)
  })

  it('lets the form place a refusal itself', async () => {
    const { errors } = setup()
    await errors.submit(
      async () => {
        throw refusal(409, 'Locked')
      },
      (err) => errors.refuse(err, { asset_id: err.message }),
    )
    expect(errors.fieldError('asset_id')).toBe('Locked')
    expect(errors.generalError.value).toBe('')
  })

  it('reset clears what the server said and the attempt', async () => {
    const { client, errors } = setup()
    await errors.submit(async () => {
      throw refusal(422, 'x', { name: 'No' })
    })
    client.value = { name: { key: 'required' } }
    errors.reset()
    expect(errors.fieldError('name')).toBe('')
  })
})
