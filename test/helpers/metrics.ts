/** The value of one Prometheus sample, e.g. metricValue(text, 'aerogrid_records_rejected_total', 'kind="decode"'). */
export function metricValue(text: string, name: string, labelMatch = ''): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)];
    const metric = series.split('{')[0];
    if (metric === name && (!labelMatch || series.includes(labelMatch))) return Number(value);
  }
  return NaN;
}
