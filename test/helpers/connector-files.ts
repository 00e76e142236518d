// The files of a small connector for tests: an aerogrid.yaml and an app.py that sums tick values
// per name into the grid 'totals'. No side effects, so any suite may import them.

export function appYaml(options: {
  name: string; tenant: string; topics: string[]; grid?: string; replicas?: number; groups?: string[]; cpu?: string; memory?: string;
  entrypoint?: string; deadLetterPolicy?: 'dlq' | 'stop';
}): string {
  return `apiVersion: aerogrid.dev/v1
kind: App
metadata:
  name: ${options.name}
  tenant: ${options.tenant}
spec:
  entrypoint: ${options.entrypoint ?? 'app.py'}
  topics: [${options.topics.join(', ')}]
  grids:
    - name: ${options.grid ?? 'totals'}
      columns: [total]
${options.replicas !== undefined ? `  replicas: ${options.replicas}\n` : ''}${options.cpu || options.memory ? `  resources: {cpu: ${options.cpu ?? '250m'}, memory: ${options.memory ?? '256Mi'}}\n` : ''}${options.groups ? `  access: {groups: [${options.groups.join(', ')}]}\n` : ''}${options.deadLetterPolicy ? `  deadLetter: {policy: ${options.deadLetterPolicy}}\n` : ''}`;
}

/** An app that sums tick values per name into the grid 'totals'. */
export function appSource(name: string, topic: string, factor = 1): string {
  return `import aerogrid

app = aerogrid.App('${name}', broker=BROKER_URI)

class Tick(aerogrid.Record):
    name: str
    value: int

ticks = app.topic('${topic}', key_type=str, value_type=Tick)
totals = app.Grid('totals', columns=['total'], default=lambda: {'total': 0})

print('${name} loaded, factor ${factor}')

@app.stream(ticks)
async def add(stream):
    async for key, tick in stream.items():
        totals[tick.name] = {'total': totals[tick.name]['total'] + tick.value * ${factor}}
`;
}

