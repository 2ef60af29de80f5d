// ECharts, tree-shaken: only what the reports draw is registered (bars, lines, their axes, tooltip,
// legend and the aria component that describes each chart to screen readers). Imported by the reports'
// chart component only, so it lands in the reports page's lazy chunk and no other page loads it.
import { use } from 'echarts/core'
import { BarChart, LineChart } from 'echarts/charts'
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, CanvasRenderer])

/** A bar or line chart option: `labels` on the x axis, one series per entry of `series` ({name, data}). */
export function chartOption({ type = 'bar', labels, series, description }) {
  return {
    aria: { enabled: true, label: { description } },
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: labels },
    yAxis: { type: 'value' },
    series: series.map((s) => ({ type, name: s.name, data: s.data, connectNulls: false })),
  }
}
