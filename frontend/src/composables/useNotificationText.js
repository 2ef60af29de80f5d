import { useI18n } from 'vue-i18n'

/** Human text for approval updates and decisions, multi-step chains included. */
export function useNotificationText() {
  const { t } = useI18n()

  // "an admin" when the server named the role, else "step 2".
  const nextDecider = (role, step) => (role ? t(`role.waiting.${role}`) : t('role.waiting.step', { step }))

  const summary = (p) =>
    t(p.asset_tag ? 'notifications.summary' : 'notifications.summaryNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
      status: t(`state.${p.status}`),
    })

  /** A step approved with more to go: the state is still pending, so say what moved. */
  const isAdvance = (p) => p.status === 'pending' && (p.action === 'advance' || (!p.action && p.step > 1))

  const byline = (p) => {
    let who = p.actor?.name ? t('notifications.by', { name: p.actor.name }) : ''
    if (isAdvance(p)) {
      who = t('notifications.advanced', {
        done: p.step - 1,
        total: p.steps_total,
        name: p.actor?.name || '—',
        next: nextDecider(p.required_role, p.step),
      })
    }
    return p.comment ? `${who} — “${p.comment}”` : who
  }

  /** The toast after this user decided: a final approval is not the same as an advanced step. */
  function decided(mode, id, updated) {
    if (mode === 'reject') return t('dashboard.rejected', { id })
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
