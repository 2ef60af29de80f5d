/** CSV text (RFC 4180, CRLF) of `rows` under `columns` ([{key, label}]); cells with , " or a newline quoted. */
export function toCsv(columns, rows) {
  const cell = (value) => {
    const text = value === null || value === undefined ? '' : String(value)
    // A leading = + - @ would make a spreadsheet run it as a formula.
    const safe = /^[=+\-@]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text
    return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
  }
  const lines = [columns.map((c) => cell(c.label)), ...rows.map((r) => columns.map((c) => cell(r[c.key])))]
  return lines.map((line) => line.join(',')).join('\r\n') + '\r\n'
}

/** A CSV Blob a spreadsheet opens as UTF-8 (with a byte-order mark, as the server's exports). */
export const csvBlob = (text) => new Blob(['\ufeff', text], { type: 'text/csv;charset=utf-8' })
