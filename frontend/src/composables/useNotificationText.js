import { useI18n } from 'vue-i18n'
import { useFormat } from './useFormat'

/** Human text for approval updates and decisions, multi-step chains included. */
export function useNotificationText() {
  const { t } = useI18n()
  const { dateTime } = useFormat()

  // "an admin" when the server named the role, else "step 2".
  const nextDecider = (role, step) => (role ? t(`role.waiting.${role}`) : t('role.waiting.step', { step }))

  const requestName = (p) =>
    t(p.asset_tag ? 'notifications.request' : 'notifications.requestNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
    })

  /** The headline: what happened to which request. `p.event` is the notification's type. */
  function summary(p) {
    if (p.event === 'request_comment') {
      // A burst of comments is one notification (`count` of them, the latest shown).
      const key = (p.count ?? 1) > 1 ? 'notifications.commentedMany' : 'notifications.commented'
      return t(key, { name: p.actor?.name || '—', request: requestName(p), count: p.count })
    }
    if (p.event === 'approval_reminder') return t('notifications.reminder', { request: requestName(p) })
    return t(p.asset_tag ? 'notifications.summary' : 'notifications.summaryNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
      status: t(`state.${p.status}`),
    })
  }

  /** A step approved with more to go: the state is still pending, so say what moved. */
  const isAdvance = (p) => p.status === 'pending' && (p.action === 'advance' || (!p.action && p.step > 1))

  /** "Bob" or "Bob on behalf of Erik": a decision made by a delegate names both. */
  const actorName = (actor) =>
    actor?.on_behalf_of?.name
      ? t('notifications.onBehalf', { name: actor.name, principal: actor.on_behalf_of.name })
      : actor?.name || ''

  const quote = (text, max = 140) => `“${text.length > max ? `${text.slice(0, max - 1)}…` : text}”`

  function updateLine(p) {
    const name = actorName(p.actor)
    if (p.action === 'escalate') return t('notifications.escalated', { step: p.step, total: p.steps_total })
    if (p.action === 'resubmit') return t('notifications.resubmitted', { name: name || '—' })
    if (p.action === 'edit') return t('returns.editedBy', { name: name || '—' })
    if (p.action === 'resume') return t(p.rerouted ? 'returns.rerouted' : 'returns.resumedBy', { name: name || '—' })
    if (isAdvance(p)) {
      return t('notifications.advanced', {
        done: p.step - 1,
        total: p.steps_total,
        name: name || '—',
        next: nextDecider(p.required_role, p.step),
      })
    }
    return name ? t('notifications.by', { name }) : ''
  }

  /** The second line: who did it, and what they said. */
  function byline(p) {
    if (p.event === 'request_comment') return quote(p.body || '')
    if (p.event === 'approval_reminder') {
      return t('notifications.waiting', { step: p.step, total: p.steps_total, since: dateTime(p.waiting_since) })
    }
    const who = updateLine(p)
    // A resume's comment is the server's account of where it resumed: the line above says it in the user's words.
    return p.comment && p.action !== 'resume' ? `${who} — ${quote(p.comment, 2000)}` : who
  }

  /** The toast after this user decided: a final approval is not the same as an advanced step. */
  function decided(mode, id, updated) {
    if (mode === 'reject') return t('dashboard.rejected', { id })
    if (mode === 'return') return t('returns.returned', { id })
    if (updated?.state === 'pending') {
      return t('dashboard.advanced', {
        id,
        done: updated.step - 1,
        total: updated.steps_total,
        next: nextDecider(updated.required_role, updated.step),
      })
    }
    return t('dashboard.approved', { id })
  }

  /** A 409 on a decision: someone else was quicker; say who when the server knows. */
  const conflict = (id, err) =>
    err.decidedBy
      ? t('dashboard.alreadyDecided', { id, name: err.decidedBy })
      : t('dashboard.alreadyDecidedAnon', { id })

  return { summary, byline, decided, conflict, nextDecider, t }
}
