import { ElNotification } from 'element-plus'
import { onBeforeUnmount } from 'vue'
import { useRouter } from 'vue-router'
import { useNotificationsStore } from '@/stores/notifications'
import { notificationPlacement } from './toastPlacement'
import { useDesktopAlerts } from './useDesktopAlerts'
import { useNotificationText } from './useNotificationText'

// A reconnect can bring many updates at once: toast a few, then summarise.
const MAX_TOASTS = 3
const TOAST_MS = 4000

// A comment or a reminder is news, not an outcome: only a decision is coloured by its result.
function toastType(p) {
  if (p.event === 'approval_reminder') return 'warning'
  if (p.event && p.event !== 'approval_update') return 'info'
  return p.status === 'rejected' ? 'warning' : p.status === 'approved' ? 'success' : 'info'
}

/** One toast for every notification that is new to this client; a system one while the tab is hidden. */
export function useLiveToasts() {
  const store = useNotificationsStore()
  const router = useRouter()
  const alerts = useDesktopAlerts()
  const { summary, byline, t } = useNotificationText()
  const open = (payload) => router.push({ name: 'request', params: { id: payload.request_id } })

  function toast(payload) {
    ElNotification({
      title: summary(payload),
      message: byline(payload),
      type: toastType(payload),
      duration: TOAST_MS,
      customClass: 'live-toast',
      ...notificationPlacement(),
      onClick: () => open(payload),
    })
  }

  function alertIfHidden(payloads) {
    if (!document.hidden) return
    for (const payload of payloads.slice(0, MAX_TOASTS)) {
      alerts.show(summary(payload), byline(payload), `assetflow-${payload.notification_id}`, () => open(payload))
    }
  }

  const stop = store.onFresh((payloads) => {
    payloads.slice(0, MAX_TOASTS).forEach(toast)
    if (payloads.length > MAX_TOASTS) {
      ElNotification({
        title: t('notifications.awaySummary', { count: payloads.length }),
        type: 'info',
        duration: TOAST_MS,
        customClass: 'live-toast',
        ...notificationPlacement(),
      })
    }
    alertIfHidden(payloads)
  })
  onBeforeUnmount(stop)
}
