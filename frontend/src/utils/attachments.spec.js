import { describe, expect, it } from 'vitest'
import { acceptList, previewable, progressOf, queueFiles, refusalOf, typeLabel } from './attachments'

const file = (name, size) => ({ name, size })

describe('attachments on the client', () => {
  it('queues files with the reason each one cannot be sent', () => {
    const items = queueFiles([file('a.pdf', 10), file('big.png', 11), file('empty.txt', 0), file('b.pdf', 5)], {
      maxBytes: 10,
      maxFiles: 3,
      have: 2,
    })
    expect(items.map((i) => i.error)).toEqual([
      null,
      { key: 'tooLarge', name: 'big.png', max: 10 },
      { key: 'empty', name: 'empty.txt' },
      { key: 'tooMany', name: 'b.pdf', max: 3 },
    ])
    expect(new Set(items.map((i) => i.key)).size).toBe(4)
  })

  it('splits the progress of one body between its files in order', () => {
    expect(progressOf([100, 400], 0, 500)).toEqual([0, 0])
    expect(progressOf([100, 400], 200, 500)).toEqual([1, 0.25])
    expect(progressOf([100, 400], 500, 500)).toEqual([1, 1])
  })

  it('names types, previews images and PDF only, and words refusals', () => {
    const types = [
      { mime: 'application/pdf', extensions: ['.pdf'], inline: true },
      { mime: 'text/csv', extensions: ['.csv'], inline: false },
    ]
    expect(typeLabel('application/pdf')).toBe('PDF')
    expect(typeLabel('application/x-other')).toBe('application/x-other')
    expect([previewable('application/pdf', types), previewable('text/csv', types)]).toEqual([true, false])
    expect(acceptList(types)).toBe('.pdf,application/pdf,.csv,text/csv')
    expect(refusalOf({ filename: 'x.pdf', reason: 'type' }, 10)).toEqual({ key: 'refusedType', name: 'x.pdf' })
    expect(refusalOf({ filename: 'x.pdf', reason: 'size' }, 10)).toEqual({ key: 'tooLarge', name: 'x.pdf', max: 10 })
  })
})
