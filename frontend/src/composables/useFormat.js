import { ref } from 'vue'
import { useI18n } from 'vue-i18n'

// One clock for every relative time on screen, ticking while something shows one.
const now = ref(Date.now())
let clock = null
function startClock() {
  if (!clock && typeof window !== 'undefined') clock = setInterval(() => (now.value = Date.now()), 30_000)
}

const UNITS = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
]

/** el-tag types for request states and asset statuses. */
// A returned request waits for its applicant: blue, apart from the approvers' orange pending.
export const STATE_TAG = {
  pending: 'warning',
  returned: 'primary',
  approved: 'success',
  rejected: 'danger',
  withdrawn: 'info',
}
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

  /** "3 minutes ago" / "3 分钟前"; the absolute time belongs in a title beside it. */
  function relative(iso, at = now.value) {
    const d = new Date(iso)
    if (!iso || Number.isNaN(d.getTime())) return t('common.none')
    startClock()
    const seconds = Math.round((d.getTime() - at) / 1000)
    const format = new Intl.RelativeTimeFormat(locale.value, { numeric: 'auto' })
    const unit = UNITS.find(([, size]) => Math.abs(seconds) >= size)
    if (!unit) return format.format(0, 'second')
    return format.format(Math.trunc(seconds / unit[1]), unit[0])
  }

  /** Whether a time has passed, by the clock relative times tick with: an "overdue" appears without a refetch. */
  function isPast(iso) {
    startClock()
    return new Date(iso).getTime() <= now.value
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

  /** A file size: "611 bytes", "3.1 kB", "10 MB", counted in 1024s as the server's limits are (10 MiB). */
  function fileSize(bytes) {
    const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte']
    let n = Number(bytes) || 0
    let i = 0
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024
      i += 1
    }
    const format = { style: 'unit', unit: units[i], unitDisplay: i ? 'short' : 'long', maximumFractionDigits: 1 }
    return n.toLocaleString(locale.value, format)
  }

  return { t, dateTime, relative, isPast, duration, money, fileSize }
}
