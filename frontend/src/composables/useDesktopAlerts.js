import { ref } from 'vue'

const isSupported = () => typeof window !== 'undefined' && 'Notification' in window
const permission = ref(isSupported() ? window.Notification.permission : 'denied')

/**
 * Browser notifications for live updates while the tab is hidden. The browser asks only when
 * the user presses the button that calls `enable()`, never on page load.
 */
export function useDesktopAlerts() {
  async function enable() {
    if (!isSupported()) return
    permission.value = await window.Notification.requestPermission()
  }
  const granted = () => isSupported() && window.Notification.permission === 'granted'

  /** Show one system notification; clicking it brings the tab back and runs `onClick`. */
  function show(title, body, tag, onClick) {
    if (!granted()) return
    const alert = new window.Notification(title, { body, tag })
    alert.onclick = () => {
      window.focus()
      onClick?.()
      alert.close?.()
    }
  }

  return { supported: isSupported(), permission, enable, granted, show }
}
