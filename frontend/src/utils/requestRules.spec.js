import { describe, expect, it } from 'vitest'
import { toPayload, validateRequest } from './requestRules'
import { rulesFrom } from '@/stores/meta'
import META from '@/testing/meta.json'

const rules = rulesFrom(META)

const alice = { id: 1, role: 'employee' }
const inStock = { id: 5, status: 'in_stock', custodian: null, locked: false }
const mine = { id: 6, status: 'in_use', custodian: { id: 1 }, locked: false }
const keys = (errors) => Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.key]))

describe('validateRequest', () => {
  it('requires a reason and the acquire fields', () => {
    expect(keys(validateRequest({ kind: 'acquire', reason: ' ', name: '', category: '', value: '' }, { rules }))).toEqual({
      reason: 'required',
      name: 'required',
      category: 'required',
      value: 'required',
    })
  })

  it.each([
    ['12.345', 'money'],
    ['-1', 'money'],
    ['abc', 'money'],
    ['0', 'moneyRange'],
    ['1000000000001', 'moneyRange'],
  ])('rejects the amount %s', (value, key) => {
    const errors = validateRequest({ kind: 'acquire', reason: 'r', name: 'n', category: 'c', value }, { rules })
    expect(errors.value.key).toBe(key)
  })

  it('accepts a well-formed acquire and builds only its fields', () => {
    const form = { kind: 'acquire', reason: ' new laptop ', name: 'X1', category: 'Laptop', value: '1299.50', currency: 'USD', asset_id: 9 }
    expect(validateRequest(form, { rules })).toEqual({})
    expect(toPayload(form)).toEqual({ kind: 'acquire', reason: 'new laptop', name: 'X1', category: 'Laptop', value: '1299.50', currency: 'USD' })
  })

  it('checks the currency code and the reason length', () => {
    const errors = validateRequest({ kind: 'acquire', reason: 'x'.repeat(2001), name: 'n', category: 'c', value: '1', currency: 'usd' }, { rules })
    expect(keys(errors)).toEqual({ reason: 'tooLong', currency: 'currency' })
  })

  it('needs an asset whose status fits the kind and which is not locked', () => {
    expect(keys(validateRequest({ kind: 'assign', reason: 'r', asset_id: null }, { rules }))).toEqual({ asset_id: 'required' })
    expect(keys(validateRequest({ kind: 'assign', reason: 'r', asset_id: 6 }, { rules, asset: mine }))).toEqual({ asset_id: 'kindDoesNotFit' })
    expect(keys(validateRequest({ kind: 'repair', reason: 'r', asset_id: 5 }, { rules, asset: { ...inStock, locked: true } }))).toEqual({ asset_id: 'locked' })
    expect(validateRequest({ kind: 'dispose', reason: 'r', asset_id: 5 }, { rules, asset: inStock })).toEqual({})
    expect(keys(validateRequest({ kind: 'dispose', reason: 'r', asset_id: 5 }, { rules, asset: { ...inStock, status: 'disposed' } }))).toEqual({ asset_id: 'kindDoesNotFit' })
  })

  it('transfer: a target other than the custodian, by the custodian or an admin', () => {
    const base = { kind: 'transfer', reason: 'r', asset_id: 6 }
    expect(keys(validateRequest(base, { rules, asset: mine, user: alice }))).toEqual({ target_user_id: 'required' })
    expect(keys(validateRequest({ ...base, target_user_id: 1 }, { rules, asset: mine, user: alice }))).toEqual({ target_user_id: 'sameCustodian' })
    const theirs = { ...mine, custodian: { id: 2 } }
    expect(keys(validateRequest({ ...base, target_user_id: 3 }, { rules, asset: theirs, user: alice }))).toEqual({ asset_id: 'notCustodian' })
    expect(validateRequest({ ...base, target_user_id: 3 }, { rules, asset: theirs, user: { id: 9, role: 'admin' } })).toEqual({})
    expect(toPayload({ ...base, target_user_id: 3 })).toEqual({ kind: 'transfer', reason: 'r', asset_id: 6, target_user_id: 3 })
  })
})
