// ECharts (vendor/echarts.min.js, loaded on first use) with the report's
// look: its palette, its CJK font stack, intervals drawn as error bars.
// Every chart sits in a <figure> with a caption; the table under the
// charts carries the same numbers for screen readers and keyboards.

import { h } from './dom.js';

export const PALETTE = ['#2f6fdf', '#e8772e', '#2e9e5b', '#c83e4d', '#7b5cc4', '#a1785c', '#d65fa8', '#7f7f7f', '#b5b82e', '#1fb3c7'];
const FONT = '-apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';

let loading = null;

/** window.echarts, loading the vendored script once. */
export function echartsReady() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/assets/vendor/echarts.min.js';
      script.onload = () => resolve(window.echarts);
      script.onerror = () => {
        loading = null;
        reject(new Error('/assets/vendor/echarts.min.js could not be loaded'));
      };
      document.head.appendChild(script);
    });
  }
  return loading;
}

const live = new Set();
window.addEventListener('resize', () => {
  for (const chart of live) {
    if (!chart.getDom().isConnected) {
      chart.dispose();
      live.delete(chart);
    } else {
      chart.resize();
    }
  }
});

/** A figure holding a chart made by `option()` once the figure is on the page. */
export function chartFigure(caption, option, { height = 320 } = {}) {
  const box = h('div', { class: 'chart' });
  box.style.height = `${height}px`;
  const figure = h('figure', { class: 'chart-box' }, h('figcaption', { text: caption }), box);
  const draw = (echarts) => {
    if (!box.isConnected) {
      requestAnimationFrame(() => draw(echarts));
      return;
    }
    const chart = echarts.init(box, null, { renderer: 'svg' });
    chart.setOption({
      color: PALETTE,
      textStyle: { fontFamily: FONT, color: '#1d2733' },
      aria: { enabled: true, label: { description: caption } },
      animation: false,
      grid: { left: 56, right: 24, top: 36, bottom: 56, containLabel: true },
      legend: { type: 'scroll', bottom: 0, textStyle: { color: '#5b6775' } },
      tooltip: { trigger: 'axis', confine: true },
      ...option(),
    });
    live.add(chart);
  };
  echartsReady().then(draw, (error) => {
    box.replaceChildren(h('p', { role: 'alert', class: 'msg alert', text: error.message }));
  });
  return figure;
}

/**
 * A custom series drawing [x, low, high] as error bars in `color`, nudged
 * sideways by `offset` px so several groups at one x stay apart.
 */
export function errorBars(name, data, color, offset = 0) {
  return {
    name,
    type: 'custom',
    data,
    z: 3,
    tooltip: { show: false },
    renderItem(params, api) {
      const x = api.value(0);
      const top = api.coord([x, api.value(2)]);
      const bottom = api.coord([x, api.value(1)]);
      const cx = top[0] + offset;
      const style = { stroke: color, lineWidth: 1.5 };
      return {
        type: 'group',
        children: [
          { type: 'line', shape: { x1: cx, y1: top[1], x2: cx, y2: bottom[1] }, style },
          { type: 'line', shape: { x1: cx - 4, y1: top[1], x2: cx + 4, y2: top[1] }, style },
          { type: 'line', shape: { x1: cx - 4, y1: bottom[1], x2: cx + 4, y2: bottom[1] }, style },
        ],
      };
    },
  };
}

export const axisLabel = { color: '#5b6775' };
export const splitLine = { lineStyle: { color: '#eef0f3' } };
