import { PHONE_QUERY } from './useBreakpoint'

// Toasts never cover the sticky header: below it on a desktop, at the bottom on a phone.
const HEADER_PX = 56 // --af-header-h in styles.css
const GAP_PX = 8

export const isPhone = () => typeof window !== 'undefined' && !!window.matchMedia?.(PHONE_QUERY).matches

/** Position and offset for ElNotification (which adds its own 16 px gap to the offset). */
export const notificationPlacement = () =>
  isPhone() ? { position: 'bottom-right', offset: 0 } : { position: 'top-right', offset: HEADER_PX }

/** Placement and offset for ElMessage (through el-config-provider's `message`). */
export const messagePlacement = (phone = isPhone()) =>
  phone ? { placement: 'bottom', offset: GAP_PX } : { placement: 'top', offset: HEADER_PX + GAP_PX }
