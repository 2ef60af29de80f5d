import { describe, expect, it } from 'vitest'
import { messagePlacement, notificationPlacement } from './toastPlacement'

// Issue 20: toasts placed under the header covered the page's state tag, "Mark all read" and the
// dashboard's counts; at the bottom they cover none of the top-of-page controls (e2e/shell.test.js
// measures it at 1280, 1440 and 375 px).
describe('toast placement', () => {
  it('puts live toasts at the bottom', () => {
    expect(notificationPlacement().position).toMatch(/^bottom/)
  })

  it('puts messages at the bottom', () => {
    expect(messagePlacement().placement).toMatch(/^bottom/)
  })
})
