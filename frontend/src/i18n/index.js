import { watch } from 'vue'
import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN from './zh-CN'
import { readJson, writeJson } from '@/utils/storage'

const STORAGE_KEY = 'assetflow.locale'
export const LOCALES = [
  { code: 'en', label: 'English', short: 'EN' },
  { code: 'zh-CN', label: '简体中文', short: '中文' },
]

function initialLocale() {
  const saved = readJson(STORAGE_KEY)
  if (LOCALES.some((l) => l.code === saved)) return saved
  const browser = typeof navigator !== 'undefined' ? navigator.language || '' : ''
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'en',
  messages: { en, 'zh-CN': zhCN },
})

// <html lang> follows the UI language from the first paint on (screen readers pick the voice by it).
watch(
  i18n.global.locale,
  (code) => {
    if (typeof document !== 'undefined') document.documentElement.lang = code
  },
  { immediate: true, flush: 'sync' },
)

/** Switch the UI language and remember it for the next visit. */
export function setLocale(code) {
  i18n.global.locale.value = code
  writeJson(STORAGE_KEY, code)
}
