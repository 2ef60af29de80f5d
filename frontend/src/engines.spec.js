// @vitest-environment node
// `npm ci` warns EBADENGINE when a locked package refuses a Node that package.json accepts.
// Every Node version our `engines` range admits must satisfy every locked package's own range.
import { readFileSync } from 'node:fs'
import process from 'node:process'
import semver from 'semver'
import { describe, expect, it } from 'vitest'

const read = (name) => JSON.parse(readFileSync(new URL(`../${name}`, import.meta.url), 'utf8'))
const ours = read('package.json').engines.node
const locked = Object.entries(read('package-lock.json').packages).filter(([path, p]) => path && p.engines?.node)

describe('engines', () => {
  it('admits only Node versions that every locked package accepts', () => {
    const refused = locked.filter(([, p]) => !semver.subset(ours, p.engines.node))
    expect(refused.map(([path, p]) => `${path} wants ${p.engines.node}`)).toEqual([])
  })

  it('admits the Node that runs the tests (CI and this machine run Node 20)', () => {
    expect(semver.satisfies(process.version, ours)).toBe(true)
  })
})
