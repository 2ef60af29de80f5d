import { describe, expect, it } from 'vitest'
import { messagePlacement } from './toastPlacement'

// Messages (ElMessage, placed through el-config-provider in App.vue) keep to the bottom as the live
// toasts do (useLiveToasts.spec.js): at the top they covered the page's state tag (issue 20).
describe('message placement', () => {
  it('is the bottom, 16 px from the edge', () => {
    expect(messagePlacement()).toEqual({ placement: 'bottom', offset: 16 })
  })
})
