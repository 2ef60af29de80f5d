import { useI18n } from 'vue-i18n'

/** el-tag types for request states and asset statuses. */
export const STATE_TAG = { pending: 'warning', approved: 'success', rejected: 'danger', withdrawn: 'info' }
export const ASSET_TAG = { in_stock: 'success', in_use: 'primary', in_repair: 'warning', disposed: 'info' }

/** Locale-aware formatting of times, durations and money. */
export function useFormat() {
  const { t, locale } = useI18n()

  function dateTime(iso) {
    if (!iso) return t('common.none')
    const d = new Date(iso)
    if (Number.isNaN(d.getTime())) return iso
    return d.toLocaleString(locale.value, { dateStyle: 'medium', timeStyle: 'short' })
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return null
    const s = Math.round(seconds)
    if (s < 60) return t('time.seconds', { n: s })
    if (s < 3600) return t('time.minutes', { n: Math.round(s / 60) })
    if (s < 86400) return t('time.hours', { n: (s / 3600).toFixed(1) })
    return t('time.days', { n: (s / 86400).toFixed(1) })
  }

  function money(value, currency) {
    if (value === null || value === undefined || value === '') return t('common.none')
    const n = Number(value)
    if (!currency || Number.isNaN(n)) return String(value)
    try {
      return n.toLocaleString(locale.value, { style: 'currency', currency })
    } catch {
      return `${value} ${currency}`
    }
  }

  return { t, dateTime, duration, money }
}
