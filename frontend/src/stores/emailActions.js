import { defineStore } from 'pinia'
import { api } from '@/services/api'

/**
 * The one-click links of approvers' e-mails. The token is the credential, so these calls go
 * without the session's token and work signed out; neither is a GET, so opening the page changes nothing.
 */
export const useEmailActionsStore = defineStore('emailActions', () => {
  /** What the link would do, as whom, to which request. */
  const preview = (token) => api.post('/api/email-actions/preview', { token }, { auth: false })

  /** Take the link's action; resolves to the request as the decision left it. */
  const confirm = (token, comment) =>
    api.post('/api/email-actions/confirm', comment ? { token, comment } : { token }, { auth: false })

  return { preview, confirm }
})
