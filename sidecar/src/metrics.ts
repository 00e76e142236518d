/**
 * The sidecar's metrics, rendered in Prometheus text format 0.0.4 (docs/protocol.md §3).
 * Every series carries the label `app`.
 */
import { REJECT_KINDS, type RejectKind } from './runtime/protocol.js';

export interface GaugeSources {
  gridRows(): { grid: string; rows: number }[];
  wsClients(): number;
  wsSubscriptions(): number;
  /** Bytes queued for all WebSocket clients; clients dropped and connections refused, by reason. */
  wsOutbound?(): { bytes: number; dropped: Record<string, number>; refused: Record<string, number> };
}

/**
 * The event loop's delay: how late timers and I/O callbacks run, over the last full 10 s window.
 * Heavy client work that blocked the loop would starve the Kafka heartbeat and the probes; this
 * shows it.
 *
 * A timer every `SAMPLE_MS` notes how late it fired: every 10 ms would wake an idle sidecar 100
 * times a second for this alone. A block of the loop of B ms delays some sample by B - SAMPLE_MS
 * at least (and by up to B), so the blocks that matter, those of hundreds of ms to seconds that
 * starve a heartbeat or a probe, still show. The window's samples (at most windowMs / SAMPLE_MS)
 * are kept as they are: perf_hooks' histogram did the same with about 1 MiB more memory per
 * sidecar, which counts with many apps on one machine.
 */
const SAMPLE_MS = 200;

interface Delay {
  p50: number;
  p99: number;
  max: number;
}

export class LoopDelay {
  /** This window's samples: how late each timer fired, in ms. */
  private samples: number[] = [];
  private last: Delay = { p50: 0, p99: 0, max: 0 };
  private windowStart = performance.now();
  private timer: NodeJS.Timeout;

  constructor(private readonly windowMs = 10_000) {
    this.timer = this.arm(performance.now() + SAMPLE_MS);
  }

  /** The last window's delay in seconds (the current one's, before the first window ends). */
  get seconds(): Delay {
    return this.last.max > 0 ? this.last : quantiles(this.samples);
  }

  private arm(due: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.sample(due), SAMPLE_MS);
    timer.unref();
    return timer;
  }

  private sample(due: number): void {
    const now = performance.now();
    this.samples.push(Math.max(0, now - due));
    if (now - this.windowStart >= this.windowMs) {
      this.last = quantiles(this.samples);
      this.samples = [];
      this.windowStart = now;
    }
    this.timer = this.arm(now + SAMPLE_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Nearest-rank quantiles of delays in ms, in seconds. */
function quantiles(samples: number[]): Delay {
  if (samples.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! / 1000;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! / 1000 };
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return `{${body}}`;
}

function num(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

export class Metrics {
  app = '';
  recordsTotal = 0;
  readonly rejectedTotal: Record<RejectKind, number> = { decode: 0, validation: 0, handler: 0 };
  readonly deadLetteredTotal: Record<RejectKind, number> = { decode: 0, validation: 0, handler: 0 };
  batchesTotal = 0;
  batchSecondsSum = 0;
  batchSecondsCount = 0;
  runtimeRestartsTotal = 0;
  gauges: GaugeSources | null = null;
  loopDelay: LoopDelay | null = null;
  extra: (() => { lag: { topic: string; partition: number; lag: number }[]; stale: boolean; restoreRecords: number; recoveries: number }) | null = null;

  observeBatch(seconds: number): void {
    this.batchesTotal += 1;
    this.batchSecondsSum += seconds;
    this.batchSecondsCount += 1;
  }

  render(): string {
    const app = { app: this.app };
    const out: string[] = [];
    const family = (name: string, type: string, help: string, samples: [string, Record<string, string>, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [sample, l, v] of samples) out.push(`${sample}${labels(l)} ${num(v)}`);
    };
    family('aerogrid_records_total', 'counter', 'Records delivered to the runtime and processed by user code.', [
      ['aerogrid_records_total', app, this.recordsTotal],
    ]);
    family(
      'aerogrid_records_rejected_total',
      'counter',
      'Records rejected, by kind (decode, validation, handler).',
      REJECT_KINDS.map((kind) => ['aerogrid_records_rejected_total', { ...app, kind }, this.rejectedTotal[kind]]),
    );
    family(
      'aerogrid_dead_letters_total',
      'counter',
      'Records written to the dead-letter topic, by kind (decode, validation, handler).',
      REJECT_KINDS.map((kind) => ['aerogrid_dead_letters_total', { ...app, kind }, this.deadLetteredTotal[kind]]),
    );
    family('aerogrid_batches_total', 'counter', 'Batches acked by the runtime.', [['aerogrid_batches_total', app, this.batchesTotal]]);
    family('aerogrid_batch_seconds', 'summary', 'Time from sending a batch to the runtime to its ack.', [
      ['aerogrid_batch_seconds_sum', app, this.batchSecondsSum],
      ['aerogrid_batch_seconds_count', app, this.batchSecondsCount],
    ]);
    family(
      'aerogrid_grid_rows',
      'gauge',
      'Rows per grid.',
      (this.gauges?.gridRows() ?? []).map(({ grid, rows }) => ['aerogrid_grid_rows', { ...app, grid }, rows]),
    );
    family('aerogrid_ws_clients', 'gauge', 'Connected WebSocket clients.', [['aerogrid_ws_clients', app, this.gauges?.wsClients() ?? 0]]);
    family('aerogrid_ws_subscriptions', 'gauge', 'Live WebSocket subscriptions.', [
      ['aerogrid_ws_subscriptions', app, this.gauges?.wsSubscriptions() ?? 0],
    ]);
    const outbound = this.gauges?.wsOutbound?.();
    if (outbound) {
      family('aerogrid_ws_outbound_bytes', 'gauge', 'Bytes queued for all WebSocket clients together (bounded by the outbound budget).', [['aerogrid_ws_outbound_bytes', app, outbound.bytes]]);
      family('aerogrid_ws_dropped_total', 'counter', 'WebSocket clients dropped, by reason (backlog, budget: close 4008; keepalive: no pong).', Object.entries(outbound.dropped).map(([reason, n]) => ['aerogrid_ws_dropped_total', { ...app, reason }, n]));
      family('aerogrid_ws_refused_total', 'counter', 'WebSocket connections refused with 1013, by cap (sidecar, address).', Object.entries(outbound.refused).map(([reason, n]) => ['aerogrid_ws_refused_total', { ...app, reason }, n]));
    }
    if (this.loopDelay) {
      const d = this.loopDelay.seconds;
      family('aerogrid_event_loop_delay_seconds', 'gauge', 'Event loop delay over the last 10 s: quantiles 0.5, 0.99 and the maximum (quantile 1).', [
        ['aerogrid_event_loop_delay_seconds', { ...app, quantile: '0.5' }, d.p50],
        ['aerogrid_event_loop_delay_seconds', { ...app, quantile: '0.99' }, d.p99],
        ['aerogrid_event_loop_delay_seconds', { ...app, quantile: '1' }, d.max],
      ]);
    }
    family('aerogrid_runtime_restarts_total', 'counter', 'Runtime sessions started after the first one.', [
      ['aerogrid_runtime_restarts_total', app, this.runtimeRestartsTotal],
    ]);
    const extra = this.extra?.();
    if (extra) {
      family('aerogrid_consumer_lag', 'gauge', 'Records not yet committed, per source partition (as last seen).', extra.lag.map((l) => ['aerogrid_consumer_lag', { ...app, topic: l.topic, partition: String(l.partition) }, l.lag]));
      family('aerogrid_stale', 'gauge', '1 while records wait and nothing was committed for a while.', [['aerogrid_stale', app, extra.stale ? 1 : 0]]);
      family('aerogrid_restore_records', 'gauge', 'Changelog records read by the last restore.', [['aerogrid_restore_records', app, extra.restoreRecords]]);
      family('aerogrid_recoveries_total', 'counter', 'Times the pipeline re-ran from the last committed batch after a failed commit.', [['aerogrid_recoveries_total', app, extra.recoveries]]);
    }
    return out.join('\n') + '\n';
  }
}
