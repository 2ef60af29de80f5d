import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '@/services/api'
import { saveFile } from '@/utils/download'

/** The files of the request on screen: list, upload (with progress), download, preview bytes, delete. */
export const useAttachmentsStore = defineStore('attachments', () => {
  const requestId = ref(null)
  const items = ref([])
  const loaded = ref(false)
  const error = ref(null)

  async function load(id) {
    if (requestId.value !== id) {
      items.value = []
      loaded.value = false
    }
    requestId.value = id
    error.value = null
    try {
      const data = await api.get(`/api/requests/${id}/attachments`)
      if (requestId.value === id) {
        items.value = data.items
        loaded.value = true
      }
    } catch (err) {
      error.value = err
      throw err
    }
  }

  /** Upload one file to a request; `onProgress(fraction)` as it goes. Resolves to the stored file. */
  async function upload(id, file, onProgress) {
    const form = new FormData()
    form.append('file', file, file.name)
    const data = await api.upload(`/api/requests/${id}/attachments`, form, {
      onProgress: (loaded, total) => onProgress?.(total ? loaded / total : 0),
    })
    if (requestId.value === id) items.value = [...items.value, ...data.items]
    return data.items[0]
  }

  async function remove(attachment) {
    await api.del(`/api/attachments/${attachment.id}`)
    items.value = items.value.filter((a) => a.id !== attachment.id)
  }

  /** The file's bytes, fetched with the session's token (never in a URL), as a Blob of its stored type. */
  const content = (attachment) => api.blob(`/api/attachments/${attachment.id}/content`)

  async function download(attachment) {
    saveFile(await content(attachment), attachment.filename)
  }

  /** Whether the approval rule for such a request by this user requires a file (GET /api/attachments/required). */
  async function required(query) {
    const data = await api.get('/api/attachments/required', query)
    return data.required
  }

  return { requestId, items, loaded, error, load, upload, remove, content, download, required }
})
