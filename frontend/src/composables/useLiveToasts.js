import { ElNotification } from 'element-plus'
import { onBeforeUnmount } from 'vue'
import { useRouter } from 'vue-router'
import { useNotificationsStore } from '@/stores/notifications'
import { useNotificationText } from './useNotificationText'

// A reconnect can bring many updates at once: toast a few, then summarise.
const MAX_TOASTS = 3

/** One toast for every notification that is new to this client. */
export function useLiveToasts() {
  const store = useNotificationsStore()
  const router = useRouter()
  const { summary, byline, t } = useNotificationText()

  function toast(payload) {
    ElNotification({
      title: summary(payload),
      message: byline(payload),
      type: payload.status === 'rejected' ? 'warning' : payload.status === 'approved' ? 'success' : 'info',
      duration: 6000,
      customClass: 'live-toast',
      onClick: () => router.push({ name: 'request', params: { id: payload.request_id } }),
    })
  }

  const stop = store.onFresh((payloads) => {
    payloads.slice(0, MAX_TOASTS).forEach(toast)
    if (payloads.length > MAX_TOASTS) {
      ElNotification({
        title: t('notifications.awaySummary', { count: payloads.length }),
        type: 'info',
        customClass: 'live-toast',
      })
    }
  })
  onBeforeUnmount(stop)
}
