import { ref } from 'vue'
import { useApiError } from './useApiError'

/** A 422's `details.fields` as one message per field. */
function fieldMessages(err) {
  const fields = err.details?.fields || {}
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, [].concat(v).join(' ')]))
}

/**
 * The error state of a form checked on the client first and by the server last: client
 * messages appear once the user tried to submit, a refusal's field errors go under their
 * fields, and a refusal without any becomes one message above the form.
 * `translate(error)` turns a client rule's error ({key, ...params}) into text.
 */
export function useFormErrors(clientErrors, translate) {
  const showError = useApiError()
  const touched = ref(false)
  const busy = ref(false)
  const serverErrors = ref({})
  const generalError = ref('')

  function clearServer() {
    serverErrors.value = {}
    generalError.value = ''
  }

  function reset() {
    touched.value = false
    clearServer()
  }

  /** The message under a field: the client's check first, then what the server said. */
  function fieldError(field) {
    const e = touched.value ? clientErrors.value[field] : null
    return e ? translate(e) : serverErrors.value[field] || ''
  }

  /** Show a 409/422 in the form; `general` overrides the message above it. */
  function refuse(err, extraFields = {}, general) {
    serverErrors.value = { ...fieldMessages(err), ...extraFields }
    generalError.value = general ?? (Object.keys(serverErrors.value).length ? '' : err.message)
  }

  /** Check on the client, then run `send`; a 409/422 goes to `onRefused`, anything else to a toast. */
  async function submit(send, onRefused = refuse) {
    touched.value = true
    clearServer()
    if (Object.keys(clientErrors.value).length) return
    busy.value = true
    try {
      await send()
    } catch (err) {
      if (err.status === 409 || err.status === 422) onRefused(err)
      else showError(err)
    } finally {
      busy.value = false
    }
  }

  return { touched, busy, serverErrors, generalError, clearServer, reset, fieldError, refuse, submit }
}
