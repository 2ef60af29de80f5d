// Toasts keep to the bottom of the screen. Everything that says where the user is and what they can do
// sits at the top: the sticky header's controls (bell, language, the user's menu), a page's title with its
// state tag, the dashboard's counts, "Mark all read". Toasts that came down from under the header covered
// them (issue 20); at the bottom they cover none of it, at any width. Bottom-right on a wider screen (the
// end of the reading order), across the bottom on a phone; e2e/shell.test.js measures both.
const GAP_PX = 16

/** Position and offset for ElNotification (the live updates; it adds its own 16 px to the offset). */
export const notificationPlacement = () => ({ position: 'bottom-right', offset: 0 })

/** Placement and offset for ElMessage (through el-config-provider's `message`). */
export const messagePlacement = () => ({ placement: 'bottom', offset: GAP_PX })
