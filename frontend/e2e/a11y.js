// axe-core in the page under test: evaluated over CDP, so the page's CSP does not apply to it.
import axe from 'axe-core'

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']

/** Critical and serious axe violations on the page as it is now, one line each. */
export async function seriousViolations(page) {
  await page.evaluate(axe.source)
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    TAGS,
  )
  return result.violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map(
      (v) =>
        `${v.id} (${v.impact}, ${v.nodes.length} nodes): ${v.nodes[0]?.target.join(' ')} — ${v.nodes[0]?.failureSummary}`,
    )
}
