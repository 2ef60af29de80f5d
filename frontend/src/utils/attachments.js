// Attachments on the client: the checks worth making before a byte is sent (size, count, empty), what to
// call a type, how far each file of one multipart body has gone, and which message a server refusal of a
// file gets. The server stays the authority: it reads each file's type from its content (docs/api.md).

let counter = 0

const SHORT_NAMES = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'XLSX',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'DOCX',
  'text/csv': 'CSV',
  'text/plain': 'TXT',
}

/** A short name for a stored file's type ("PDF"), or the media type itself. */
export const typeLabel = (mime) => SHORT_NAMES[mime] || mime

/** Whether the page may show the file itself (an image or a PDF), as /api/meta `attachment_types` says. */
export const previewable = (mime, types = []) => types.some((t) => t.mime === mime && t.inline)

/** The file input's `accept`: every extension and type the server takes (a hint for the picker only). */
export const acceptList = (types = []) => types.flatMap((t) => [...t.extensions, t.mime]).join(',')

/**
 * Files chosen or dropped, as queue items `{key, file, name, size, progress, error}`; `error` is
 * `{key, ...params}` for an i18n message under `attachments.*` when the file cannot be sent:
 * too large, empty, or one more than the request may carry (`have` are already there or queued).
 */
export function queueFiles(files, { maxBytes, maxFiles, have = 0 }) {
  let room = maxFiles - have
  return [...files].map((file) => {
    let error = null
    if (file.size > maxBytes) error = { key: 'tooLarge', name: file.name, max: maxBytes }
    else if (file.size === 0) error = { key: 'empty', name: file.name }
    else if (room <= 0) error = { key: 'tooMany', name: file.name, max: maxFiles }
    else room -= 1
    return { key: `f${++counter}`, file, name: file.name, size: file.size, progress: null, error }
  })
}

/**
 * How far each file of one multipart body has gone, from the bytes of the whole body sent so far:
 * the files travel in order, so the first `sizes[0]` bytes (scaled to the body's length) are the first file's.
 */
export function progressOf(sizes, loaded, total) {
  const sum = sizes.reduce((a, b) => a + b, 0)
  const sent = total > 0 ? (loaded / total) * sum : 0
  let before = 0
  return sizes.map((size) => {
    const done = size > 0 ? Math.min(1, Math.max(0, (sent - before) / size)) : 1
    before += size
    return done
  })
}

/** The i18n error for one file the server refused (`details.files[]`: filename, reason size|empty|type). */
export function refusalOf(file, maxBytes) {
  if (file.reason === 'size') return { key: 'tooLarge', name: file.filename, max: maxBytes }
  if (file.reason === 'empty') return { key: 'empty', name: file.filename }
  return { key: 'refusedType', name: file.filename }
}
