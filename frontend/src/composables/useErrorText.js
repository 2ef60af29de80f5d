import { useI18n } from 'vue-i18n'

/**
 * An API error in the user's language: the error code's own text (docs/api.md lists the codes),
 * else the status's; the server's English message stays available as the detail.
 */
export function useErrorText() {
  const { t, te } = useI18n()

  function errorText(err) {
    if (!err) return ''
    if (err.status === 0) return t('errors.network_error')
    if (err.code && te(`errors.${err.code}`)) return t(`errors.${err.code}`)
    if (err.status && te(`errors.${err.status}`)) return t(`errors.${err.status}`)
    return err.message || String(err)
  }

  /** The server's own words, when they add something to the translated text. */
  const errorDetail = (err) => (err?.status && err.message && err.message !== errorText(err) ? err.message : '')

  return { errorText, errorDetail }
}
