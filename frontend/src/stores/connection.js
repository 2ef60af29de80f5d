import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { startSocket, stopSocket } from '@/services/socket'

/** The live connection as the user sees it: 'live', 'reconnecting' or 'offline'. */
export const useConnectionStore = defineStore('connection', () => {
  const socketState = ref('offline') // connecting | live | reconnecting | offline
  const browserOnline = ref(typeof navigator === 'undefined' ? true : navigator.onLine !== false)
  const attempt = ref(0)

  const status = computed(() => {
    if (!browserOnline.value) return 'offline'
    if (socketState.value === 'live') return 'live'
    if (socketState.value === 'offline') return 'offline'
    return 'reconnecting'
  })

  function markConnecting() {
    socketState.value = 'connecting'
  }
  function markLive() {
    socketState.value = 'live'
    attempt.value = 0
  }
  function markReconnecting(n) {
    socketState.value = 'reconnecting'
    if (n) attempt.value = n
  }
  function markOffline() {
    socketState.value = 'offline'
  }
  function setBrowserOnline(online) {
    browserOnline.value = online
  }

  function start() {
    startSocket()
  }
  function stop() {
    stopSocket()
  }

  return {
    socketState,
    browserOnline,
    attempt,
    status,
    markConnecting,
    markLive,
    markReconnecting,
    markOffline,
    setBrowserOnline,
    start,
    stop,
  }
})
