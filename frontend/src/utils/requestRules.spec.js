import { describe, expect, it } from 'vitest'
import { assetSearchFor, emptyForm, kindsFor, mayAsk, simulateBody, toPayload, validateRequest } from './requestRules'
import { rulesFrom } from '@/stores/meta'
import META from '@/testing/meta.json'

const rules = rulesFrom(META)

const alice = { id: 1, role: 'employee' }
const inStock = { id: 5, status: 'in_stock', custodian: null, locked: false }
const mine = { id: 6, status: 'in_use', custodian: { id: 1 }, locked: false }
const keys = (errors) => Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.key]))

describe('validateRequest', () => {
  it('requires a reason and the acquire fields', () => {
    expect(
      keys(validateRequest({ kind: 'acquire', reason: ' ', name: '', category: '', value: '' }, { rules })),
    ).toEqual({
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
    const form = {
      kind: 'acquire',
      reason: ' new laptop ',
      name: 'X1',
      category: 'Laptop',
      value: '1299.50',
      currency: 'USD',
      asset_id: 9,
    }
    expect(validateRequest(form, { rules })).toEqual({})
    expect(toPayload(form, rules)).toEqual({
      kind: 'acquire',
      reason: 'new laptop',
      name: 'X1',
      category: 'Laptop',
      value: '1299.50',
      currency: 'USD',
    })
  })

  it('checks the currency code and the reason length', () => {
    const errors = validateRequest(
      { kind: 'acquire', reason: 'x'.repeat(2001), name: 'n', category: 'c', value: '1', currency: 'usd' },
      { rules },
    )
    expect(keys(errors)).toEqual({ reason: 'tooLong', currency: 'currency' })
  })

  it('needs an asset whose status fits the kind and which is not locked', () => {
    expect(keys(validateRequest({ kind: 'assign', reason: 'r', asset_id: null }, { rules }))).toEqual({
      asset_id: 'required',
    })
    expect(keys(validateRequest({ kind: 'assign', reason: 'r', asset_id: 6 }, { rules, asset: mine }))).toEqual({
      asset_id: 'kindDoesNotFit',
    })
    expect(
      keys(
        validateRequest({ kind: 'repair', reason: 'r', asset_id: 5 }, { rules, asset: { ...inStock, locked: true } }),
      ),
    ).toEqual({ asset_id: 'locked' })
    expect(validateRequest({ kind: 'dispose', reason: 'r', asset_id: 5 }, { rules, asset: inStock })).toEqual({})
    expect(
      keys(
        validateRequest(
          { kind: 'dispose', reason: 'r', asset_id: 5 },
          { rules, asset: { ...inStock, status: 'disposed' } },
        ),
      ),
    ).toEqual({ asset_id: 'kindDoesNotFit' })
  })

  it('transfer: a target other than the custodian, by the custodian or an admin', () => {
    const base = { kind: 'transfer', reason: 'r', asset_id: 6 }
    expect(keys(validateRequest(base, { rules, asset: mine, user: alice }))).toEqual({ target_user_id: 'required' })
    expect(keys(validateRequest({ ...base, target_user_id: 1 }, { rules, asset: mine, user: alice }))).toEqual({
      target_user_id: 'sameCustodian',
    })
    const theirs = { ...mine, custodian: { id: 2 } }
    expect(keys(validateRequest({ ...base, target_user_id: 3 }, { rules, asset: theirs, user: alice }))).toEqual({
      asset_id: 'notCustodian',
    })
    expect(
      validateRequest({ ...base, target_user_id: 3 }, { rules, asset: theirs, user: { id: 9, role: 'admin' } }),
    ).toEqual({})
    expect(toPayload({ ...base, target_user_id: 3 }, rules)).toEqual({
      kind: 'transfer',
      reason: 'r',
      asset_id: 6,
      target_user_id: 3,
    })
  })
})

describe('who may ask, from the kind specs', () => {
  const bob = { id: 2, role: 'approver' }
  const admin = { id: 9, role: 'admin' }

  it('refuses an employee a disposal of stock, which the server keeps for approvers', () => {
    const dispose = rules.kindSpecs.dispose
    expect(mayAsk(dispose, inStock, alice)).toBe(false)
    expect(mayAsk(dispose, inStock, bob)).toBe(true)
    expect(mayAsk(dispose, mine, alice)).toBe(true)
    expect(mayAsk(dispose, { ...mine, custodian: { id: 2 } }, alice)).toBe(false)
    expect(mayAsk(dispose, { ...mine, custodian: { id: 2 } }, admin)).toBe(true)
    expect(
      keys(validateRequest({ kind: 'dispose', reason: 'r', asset_id: 5 }, { rules, asset: inStock, user: alice })),
    ).toEqual({ asset_id: 'mayNotAsk' })
  })

  it('searches only the assets the user may pick', () => {
    expect(assetSearchFor(rules.kindSpecs.dispose, alice)).toEqual({ status: undefined, custodian_id: 1 })
    expect(assetSearchFor(rules.kindSpecs.dispose, bob)).toEqual({ status: undefined, custodian_id: undefined })
    expect(assetSearchFor(rules.kindSpecs.transfer, alice)).toEqual({ status: 'in_use', custodian_id: 1 })
    expect(assetSearchFor(rules.kindSpecs.transfer, admin)).toEqual({ status: 'in_use', custodian_id: undefined })
    expect(assetSearchFor(rules.kindSpecs.assign, alice)).toEqual({ status: 'in_stock', custodian_id: undefined })
  })

  it('offers every kind of the server, and fills in the defaults it publishes', () => {
    expect(kindsFor(rules, alice)).toEqual(META.kinds.map((k) => k.name))
    const form = emptyForm(rules, 'acquire')
    expect(form.currency).toBe(META.default_currency)
    expect(form).toMatchObject({ kind: 'acquire', reason: '', asset_id: null, target_user_id: null, name: '' })
  })

  it('leaves a kind the server adds to its spec alone', () => {
    const lend = {
      name: 'lend',
      takes_asset: true,
      fits: ['in_stock'],
      who_may_ask: { in_stock: ['approver'] },
      fields: [
        { name: 'asset_id', type: 'asset', required: true },
        { name: 'due', type: 'text', required: true, max_length: 10 },
      ],
    }
    const withLend = rulesFrom({ ...META, kinds: [...META.kinds, lend] })
    expect(kindsFor(withLend, alice)).not.toContain('lend')
    expect(kindsFor(withLend, bob)).toContain('lend')
    const form = { kind: 'lend', reason: 'r', asset_id: 5, due: 'x'.repeat(11) }
    expect(keys(validateRequest(form, { rules: withLend, asset: inStock, user: bob }))).toEqual({ due: 'tooLong' })
    expect(toPayload({ ...form, due: 'Friday' }, withLend)).toEqual({
      kind: 'lend',
      reason: 'r',
      asset_id: 5,
      due: 'Friday',
    })
  })
})

describe('what the form asks the rule simulator', () => {
  it('waits for the asset, then routes by it alone', () => {
    const form = emptyForm(rules, 'assign')
    expect(simulateBody(form, rules)).toBeNull()
    form.asset_id = 5
    expect(simulateBody(form, rules)).toEqual({ kind: 'assign', asset_id: 5 })
  })

  it('for a new asset waits for a valid value, and sends the category once there is one', () => {
    const form = emptyForm(rules, 'acquire')
    form.value = '12.'
    expect(simulateBody(form, rules)).toBeNull()
    form.value = ' 1200.50 '
    expect(simulateBody(form, rules)).toEqual({ kind: 'acquire', value: '1200.50' })
    form.category = ' Laptop '
    expect(simulateBody(form, rules)).toEqual({ kind: 'acquire', value: '1200.50', category: 'Laptop' })
  })
})
