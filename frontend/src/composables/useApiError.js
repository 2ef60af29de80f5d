import { ElMessage } from 'element-plus'
import { useI18n } from 'vue-i18n'

/** Show an API error as a toast. 401s are not shown: the session handles them. */
export function useApiError() {
  const { t } = useI18n()
  return function showError(err) {
    if (err?.status === 401) return
    const message = err?.status === 0 ? t('common.networkError') : err?.message || String(err)
    ElMessage({ type: 'error', message, grouping: true })
  }
}
