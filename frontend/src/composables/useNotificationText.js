import { useI18n } from 'vue-i18n'

/** Human text for an approval_update payload. */
export function useNotificationText() {
  const { t } = useI18n()
  const summary = (p) =>
    t(p.asset_tag ? 'notifications.summary' : 'notifications.summaryNoTag', {
      kind: t(`kind.${p.kind}`),
      id: p.request_id,
      tag: p.asset_tag,
      status: t(`state.${p.status}`),
    })
  const byline = (p) => {
    const who = p.actor?.name ? t('notifications.by', { name: p.actor.name }) : ''
    return p.comment ? `${who} — “${p.comment}”` : who
  }
  return { summary, byline, t }
}
