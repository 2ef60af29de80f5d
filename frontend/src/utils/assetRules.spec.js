import { describe, expect, it } from 'vitest'
import { assetForm as blankForm, toCreatePayload, toUpdatePayload, validateAsset as check } from './assetRules'
import { rulesFrom } from '@/stores/meta'
import META from '@/testing/meta.json'

const rules = rulesFrom(META)
const assetForm = (asset = null) => blankForm(asset, rules)
const validateAsset = (form, original = null) => check(form, original, rules)

const keys = (errors) => Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.key]))
const valid = { ...assetForm(), tag: 'AST-9001', name: 'ThinkPad X1', category: 'Laptop', value: '9800.00' }
const laptop = {
  id: 7,
  tag: 'AST-001007',
  name: 'Dell Latitude #7',
  category: 'Laptop',
  value: '6200.00',
  currency: 'CNY',
  location: null,
  status: 'in_repair',
  locked: false,
}

describe('validateAsset (register)', () => {
  it('requires tag, name, category and value; currency defaults to CNY', () => {
    expect(assetForm().currency).toBe('CNY')
    expect(keys(validateAsset({ ...assetForm(), name: '  ' }))).toEqual({
      tag: 'required',
      name: 'required',
      category: 'required',
      value: 'required',
    })
  })

  it.each([
    ['AST 1', 'tag'],
    ['AST/1', 'tag'],
    ['x'.repeat(33), 'tooLong'],
  ])('rejects the tag %s', (tag, key) => {
    expect(keys(validateAsset({ ...valid, tag }))).toEqual({ tag: key })
  })

  it.each([
    ['12.345', 'assetValue'],
    ['-1', 'assetValue'],
    ['1e3', 'assetValue'],
    ['1000000000001', 'assetValueRange'],
  ])('rejects the value %s', (value, key) => {
    expect(keys(validateAsset({ ...valid, value }))).toEqual({ value: key })
  })

  it('accepts zero, the limits and a tag with dots, dashes and underscores', () => {
    const form = { ...valid, tag: 'a.B_9-z', value: '0', name: 'n'.repeat(120), category: 'c'.repeat(64), location: 'l'.repeat(120) }
    expect(validateAsset(form)).toEqual({})
  })

  it('checks lengths, the currency code and the starting status', () => {
    const form = { ...valid, name: 'n'.repeat(121), category: 'c'.repeat(65), location: 'l'.repeat(121), currency: 'usd', status: 'in_use' }
    expect(keys(validateAsset(form))).toEqual({ name: 'tooLong', category: 'tooLong', location: 'tooLong', currency: 'currency', status: 'required' })
  })

  it('builds the POST body, trimmed, without empty optional fields', () => {
    expect(toCreatePayload({ ...valid, name: ' ThinkPad X1 ', location: ' ' })).toEqual({
      tag: 'AST-9001',
      name: 'ThinkPad X1',
      category: 'Laptop',
      value: '9800.00',
      currency: 'CNY',
      status: 'in_stock',
    })
  })
})

describe('validateAsset (edit)', () => {
  it('does not ask for a tag and allows closing a repair', () => {
    expect(validateAsset({ ...assetForm(laptop), closeRepair: true }, laptop)).toEqual({})
  })

  it('refuses to close a repair on a locked asset or one not in repair', () => {
    const form = { ...assetForm(laptop), closeRepair: true }
    expect(keys(validateAsset(form, { ...laptop, locked: true }))).toEqual({ status: 'locked' })
    expect(keys(validateAsset(form, { ...laptop, status: 'in_use' }))).toEqual({ status: 'notInRepair' })
  })

  it('sends only what changed, and the status only when closing a repair', () => {
    expect(toUpdatePayload(assetForm(laptop), laptop)).toEqual({})
    expect(toUpdatePayload({ ...assetForm(laptop), name: ' Dell 7 ', value: '6200' }, laptop)).toEqual({ name: 'Dell 7' })
    expect(toUpdatePayload({ ...assetForm(laptop), location: 'Room 4', closeRepair: true }, laptop)).toEqual({
      location: 'Room 4',
      status: 'in_stock',
    })
  })
})
