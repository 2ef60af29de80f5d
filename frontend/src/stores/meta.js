import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/services/api'

/**
 * The server's rules (GET /api/meta): request kinds and the asset statuses each fits,
 * field limits, roles, the high-value threshold. The SPA keeps no copy of them.
 */
export const useMetaStore = defineStore('meta', () => {
  const data = ref(null)
  let pending = null

  /** Fetch once per session; concurrent callers share the one request. */
  function load() {
    if (data.value) return Promise.resolve(data.value)
    pending ||= api
      .get('/api/meta', undefined, { auth: false })
      .then((body) => (data.value = body))
      .finally(() => (pending = null))
    return pending
  }

  const kinds = computed(() => (data.value?.kinds || []).map((k) => k.name))
  const kindFits = computed(() =>
    Object.fromEntries((data.value?.kinds || []).filter((k) => k.fits).map((k) => [k.name, k.fits])),
  )
  const limits = computed(() => data.value?.limits || {})
  const assetStatuses = computed(() => data.value?.asset_statuses || [])
  const requestStates = computed(() => data.value?.request_states || [])
  /** What the rule functions in utils/ take: one plain object. */
  const rules = computed(() => rulesFrom(data.value))

  function reset() {
    data.value = null
  }

  return { data, load, kinds, kindFits, limits, assetStatuses, requestStates, rules, reset }
})

/** The rules object for utils/requestRules and utils/assetRules, from a /api/meta body. */
export function rulesFrom(meta) {
  const kinds = meta?.kinds || []
  return {
    kinds: kinds.map((k) => k.name),
    kindFits: Object.fromEntries(kinds.filter((k) => k.fits).map((k) => [k.name, k.fits])),
    // Each kind's whole spec: its fields, who may ask per status, its wording (utils/requestRules).
    kindSpecs: Object.fromEntries(kinds.map((k) => [k.name, k])),
    limits: { ...(meta?.limits || {}), maxValue: Number(meta?.limits?.max_value ?? 0) },
    createStatuses: meta?.asset_create_statuses || [],
    defaultCurrency: meta?.default_currency || '',
  }
}
