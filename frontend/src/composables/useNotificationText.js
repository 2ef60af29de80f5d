import { useI18n } from 'vue-i18n'
import { useFormat } from './useFormat'

/** Human text for approval updates and decisions, multi-step chains included. */
export function useNotificationText() {
  const { t, locale } = useI18n()
  const { dateTime } = useFormat()

  // "an admin" when the server named the role, else "step 2".
  const nextDecider = (role, step) => (role ? t(`role.waiting.${role}`) : t('role.waiting.step', { step }))

  const requestName = (p) =>
    t(p.asset_tag ? 'notifications.request' : 'notifications.requestNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
    })

  /** The people a step waits for, by name ("Ada Admin", "Ada or Bob", "Ada, Bob, Carol or 2 others"), else its role. */
  function waitingFor(p) {
    const names = p.waiting_for?.names || []
    if (!names.length) return nextDecider(p.required_role, p.step)
    const more = (p.waiting_for.count ?? names.length) - names.length
    if (more > 0)
      return t('notifications.waitingForMany', { names: names.join(t('notifications.listSeparator')), more })
    return new Intl.ListFormat(locale.value, { type: 'disjunction' }).format(names)
  }

  /** A step approved with more to go: the state is still pending, so say what moved. */
  const isAdvance = (p) => p.status === 'pending' && (p.action === 'advance' || (!p.action && p.step > 1))

  /** "Bob" or "Bob on behalf of Erik": a decision made by a delegate names both. */
  const actorName = (actor) =>
    actor?.on_behalf_of?.name
      ? t('notifications.onBehalf', { name: actor.name, principal: actor.on_behalf_of.name })
      : actor?.name || ''

  const quote = (text, max = 140) => `“${text.length > max ? `${text.slice(0, max - 1)}…` : text}”`

  // The approval updates whose headline says what happened; any other (an older payload) names the request's state.
  const HEADLINES = {
    submit: 'notifications.didSubmit',
    resubmit: 'notifications.didResubmit',
    approve: 'notifications.didApprove',
    reject: 'notifications.didReject',
    withdraw: 'notifications.didWithdraw',
  }
  const toldWhatHappened = (p) => isAdvance(p) || p.action === 'escalate' || (HEADLINES[p.action] && p.actor)

  /** The headline: what happened ("Bob Wang approved step 1 of 2 — waiting for Ada Admin"). `p.event` is the type. */
  function summary(p) {
    if (p.event === 'request_comment') {
      // A burst of comments is one notification (`count` of them, the latest shown).
      const key = (p.count ?? 1) > 1 ? 'notifications.commentedMany' : 'notifications.commented'
      return t(key, { name: p.actor?.name || '—', request: requestName(p), count: p.count })
    }
    if (p.event === 'approval_reminder') return t('notifications.reminder', { request: requestName(p) })
    const name = actorName(p.actor) || '—'
    if (isAdvance(p)) {
      return t('notifications.didAdvance', { name, done: p.step - 1, total: p.steps_total, next: waitingFor(p) })
    }
    if (p.action === 'escalate') {
      return t('notifications.didEscalate', { step: p.step, total: p.steps_total, next: waitingFor(p) })
    }
    if (p.action === 'edit') return t('returns.editedBy', { name })
    if (p.action === 'resume') return t(p.rerouted ? 'returns.rerouted' : 'returns.resumedBy', { name })
    if (toldWhatHappened(p)) return t(HEADLINES[p.action], { name, request: requestName(p) })
    return t(p.asset_tag ? 'notifications.summary' : 'notifications.summaryNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
      status: t(`state.${p.status}`),
    })
  }

  /** The second line: which request (when the headline did not say), and what was said. */
  function byline(p) {
    if (p.event === 'request_comment') return quote(p.body || '')
    if (p.event === 'approval_reminder') {
      return t('notifications.waiting', { step: p.step, total: p.steps_total, since: dateTime(p.waiting_since) })
    }
    let line
    if (isAdvance(p) || ['escalate', 'edit', 'resume'].includes(p.action)) line = requestName(p)
    else if (toldWhatHappened(p)) line = ''
    else line = actorName(p.actor) ? t('notifications.by', { name: actorName(p.actor) }) : ''
    // A resume's comment is the server's account of where it resumed: the headline says it in the user's words.
    if (!p.comment || p.action === 'resume') return line
    return line ? `${line} — ${quote(p.comment, 2000)}` : quote(p.comment, 2000)
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

  return { summary, byline, decided, conflict, nextDecider, waitingFor, t }
}
