// Getting data in without a Kafka client: `aerogrid topic create|list|describe` and
// `aerogrid produce`, run as a user runs them (the CLI as a child process) on the real test broker,
// and read back with a real consumer. Bad input must name the line (or the topic) and the fix, and
// send nothing: the topic's offsets must not move.
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../sidecar/src/kafka/client.js';
import { ExitCode } from '../../../src/errors.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { ANSI, tempDir } from '../../helpers/files.js';
import { testBroker, uniqueName } from '../../helpers/wait.js';

const broker = testBroker();
const kafka = createKafkaClient({ brokers: [broker], clientId: 'test-topic-produce', logger: { warn: () => {}, error: () => {} } });
let base: string;

/** `aerogrid <args> --broker <test broker>`, with `input` on standard input. */
const cli = (args: string[], input?: string): Promise<CliResult> => runCli([...args, '--broker', broker], input === undefined ? {} : { input });

/** Every record of the topic, in offset order per partition. */
async function records(topic: string): Promise<Array<{ partition: number; key: string | null; value: string }>> {
  const out: Array<{ partition: number; key: string | null; value: string }> = [];
  await kafka.readTopic(topic, { stallMs: 15_000, onMessages: (partition, messages) => void out.push(...messages.map((m) => ({ partition, key: m.key?.toString() ?? null, value: m.value!.toString() }))) });
  return out;
}

const offsets = (topic: string) => kafka.topicOffsets(topic);

function file(name: string, text: string): string {
  const path = join(base, name);
  writeFileSync(path, text);
  return path;
}

async function createdTopic(prefix: string, partitions = 3): Promise<string> {
  const topic = uniqueName(prefix);
  const r = await cli(['topic', 'create', topic, '--partitions', String(partitions)]);
  expect(r.code, r.stderr).toBe(0);
  return topic;
}

beforeAll(() => {
  base = tempDir('aerogrid-produce-');
});
afterAll(async () => {
  rmSync(base, { recursive: true, force: true });
  await kafka.close();
});

describe('aerogrid topic', () => {
  it('lists around a topic deleted between listing the names and reading their offsets (other users delete topics too)', async () => {
    const kept = uniqueName('kept');
    const gone = uniqueName('gone');
    await kafka.ensureTopic(kept, { partitions: 2 });
    await kafka.ensureTopic(gone, { partitions: 1 });
    await kafka.deleteTopic(gone);
    const offsets = await kafka.manyTopicOffsets([gone, kept]);
    expect([...offsets.keys()]).toEqual([kept]);
    expect(offsets.get(kept)).toHaveLength(2);
  });

  it('reads the offsets of every topic of a broker of hundreds, past the slices it reads them in, each exact', async () => {
    const names = Array.from({ length: 230 }, (_, i) => uniqueName(`many${i}`));
    for (let i = 0; i < names.length; i += 23) await Promise.all(names.slice(i, i + 23).map((name) => kafka.ensureTopic(name, { partitions: 1 + (names.indexOf(name) % 3) })));
    // A few records in topics on each side of the slices' edges (every 100 topics).
    const filled = [0, 99, 100, 101, 229].map((i) => names[i]!);
    await Promise.all(filled.map((name, n) => kafka.produce(name, Array.from({ length: n + 1 }, (_, k) => ({ key: String(k), value: 'x', partition: 0 })))));
    const offsets = await kafka.manyTopicOffsets(names);
    expect(offsets.size).toBe(names.length);
    names.forEach((name, i) => {
      const parts = offsets.get(name)!;
      expect(parts.map((p) => p.partition), name).toEqual([0, 1, 2].slice(0, 1 + (i % 3)));
      const n = filled.indexOf(name);
      expect(parts.map((p) => Number(p.high) - Number(p.low)), name).toEqual(parts.map((p) => (p.partition === 0 && n >= 0 ? n + 1 : 0)));
    });
  }, 120_000);

  it('create, then list and describe show the topic with its partitions', async () => {
    const topic = uniqueName('orders');
    const created = await cli(['topic', 'create', topic, '--partitions', '3']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toContain(`Created topic '${topic}' on ${broker} (3 partitions).`);
    expect(await kafka.partitionCount(topic)).toBe(3);

    const list = await cli(['topic', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^TOPIC\s+PARTITIONS\s+MESSAGES$/);
    expect(list.stdout).toMatch(new RegExp(`^${topic}\\s+3\\s+0$`, 'm'));
    const listJson = await cli(['topic', 'list', '--json']);
    expect(listJson.code).toBe(0);
    expect(JSON.parse(listJson.stdout)).toContainEqual({ topic, partitions: 3, messages: 0 });
    expect(listJson.stdout).not.toMatch(ANSI);

    const describe = await cli(['topic', 'describe', topic]);
    expect(describe.code, describe.stderr).toBe(0);
    expect(describe.stderr).toContain(`Topic '${topic}' on ${broker}: 3 partitions, 0 messages.`);
    expect(describe.stdout.trim().split('\n')).toEqual([
      'PARTITION  EARLIEST  LATEST  MESSAGES',
      '0          0         0       0',
      '1          0         0       0',
      '2          0         0       0',
    ]);
    const json = JSON.parse((await cli(['topic', 'describe', topic, '--json'])).stdout);
    expect(json).toEqual({
      topic,
      broker,
      messages: 0,
      partitions: [0, 1, 2].map((partition) => ({ partition, earliest: 0, latest: 0, messages: 0 })),
    });
  }, 60_000); // `topic list` reads the offsets of every topic on the shared test broker

  it('create of an existing topic fails and changes nothing, unless --if-not-exists', async () => {
    const topic = await createdTopic('exists', 2);
    const again = await cli(['topic', 'create', topic, '--partitions', '5']);
    expect(again.code).toBe(ExitCode.invalid);
    expect(again.stderr).toContain(`error: Topic '${topic}' already exists on ${broker} (2 partitions)`);
    expect(again.stderr).toMatch(/fix: .*aerogrid topic describe .*--if-not-exists/);
    const ok = await cli(['topic', 'create', topic, '--if-not-exists', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ topic, broker, partitions: 2, created: false });
    expect(await kafka.partitionCount(topic)).toBe(2);
  });

  it.each([
    ['a space', 'or ders', /it has a space/, /e\.g\. or-ders/],
    ['a slash', 'a/b', /it has '\/'/, /e\.g\. a-b/],
    ['..', '..', /it is '\.\.'/, /not '\.' or '\.\.' alone/],
    ['250 characters', 'x'.repeat(250), /it is 250 characters long; Kafka allows at most 249/, /at most 249/],
  ])('refuses a topic name with %s, naming the problem and the fix, and creates nothing', async (_what, name, problem, fix) => {
    const r = await cli(['topic', 'create', name]);
    expect(r.code).toBe(ExitCode.invalid);
    expect(r.stderr).toMatch(/error: Topic .* is not a valid Kafka topic name/);
    expect(r.stderr).toMatch(problem);
    expect(r.stderr).toMatch(new RegExp(`fix: .*${fix.source}`));
    expect(await kafka.topicExists(name)).toBe(false);
  });

  it('describe of a missing topic: not found, with the command that creates it and the likely typo', async () => {
    const topic = await createdTopic('typo');
    const r = await cli(['topic', 'describe', `${topic}x`, '--json']);
    expect(r.code).toBe(ExitCode.notFound);
    expect(r.stderr).toContain(`error: Topic '${topic}x' does not exist on ${broker}.`);
    expect(r.stderr).toContain(`fix: Create it with \`aerogrid topic create ${topic}x --broker ${broker}\``);
    expect(r.stderr).toContain(`did you mean '${topic}'?`);
    expect(JSON.parse(r.stdout).error).toMatchObject({ exitCode: ExitCode.notFound, message: expect.stringContaining('does not exist') });
  });

  it('an unreachable broker is an environment error that names it', async () => {
    const r = await runCli(['topic', 'list', '--broker', '127.0.0.1:1']);
    expect(r.code).toBe(ExitCode.environment);
    expect(r.stderr).toMatch(/error: Cannot reach Kafka at 127\.0\.0\.1:1/);
    expect(r.stderr).toMatch(/fix: Check --broker/);
  });
});

describe('aerogrid produce', () => {
  const orders = [
    '{"order_id": "o-1", "product": "tea", "quantity": 3}',
    '',
    '{"order_id": "o-2", "product": "cake", "quantity": 7}',
    '   ',
    '{"order_id": 3, "product": "tea", "quantity": 2, "price": 12345678901234567890}',
  ].join('\n') + '\n';

  it('sends a JSON-lines file with --key-field: the keys from the field, the values as written', async () => {
    const topic = await createdTopic('produce-file');
    const r = await cli(['produce', topic, file('orders.jsonl', orders), '--key-field', 'order_id']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Sent 3 records to '${topic}' on ${broker} (2 blank lines skipped).`);
    expect(r.stdout).toBe('');
    const got = await records(topic);
    expect(got.map(({ key, value }) => ({ key, value })).sort((a, b) => a.key!.localeCompare(b.key!))).toEqual([
      { key: '3', value: '{"order_id": 3, "product": "tea", "quantity": 2, "price": 12345678901234567890}' },
      { key: 'o-1', value: '{"order_id": "o-1", "product": "tea", "quantity": 3}' },
      { key: 'o-2', value: '{"order_id": "o-2", "product": "cake", "quantity": 7}' },
    ]);
    // Keyed records go where Kafka's default partitioner puts the key: the same key, the same partition.
    const again = await cli(['produce', topic, '-', '--key-field', 'order_id'], '{"order_id": "o-1", "product": "tea", "quantity": 1}\n');
    expect(again.code, again.stderr).toBe(0);
    const o1 = (await records(topic)).filter((m) => m.key === 'o-1');
    expect(o1).toHaveLength(2);
    expect(o1[0]!.partition).toBe(o1[1]!.partition);
    const described = JSON.parse((await cli(['topic', 'describe', topic, '--json'])).stdout);
    expect(described.messages).toBe(4);
  });

  it('reads standard input with `-` and with no file; records without --key-field have no key', async () => {
    const topic = await createdTopic('produce-stdin', 1);
    const dash = await cli(['produce', topic, '-'], '{"n": 1}\n"text"\n');
    expect(dash.code, dash.stderr).toBe(0);
    expect(dash.stderr).toContain(`Sent 2 records to '${topic}'`);
    const bare = await cli(['produce', topic], '[1, 2]\n');
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toContain(`Sent 1 record to '${topic}'`);
    // Empty input is no error, but says that nothing went.
    const empty = await cli(['produce', topic], '\n\n');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).toContain(`No records in standard input (only 2 blank lines): nothing was sent to '${topic}'.`);
    expect(await records(topic)).toEqual([
      { partition: 0, key: null, value: '{"n": 1}' },
      { partition: 0, key: null, value: '"text"' },
      { partition: 0, key: null, value: '[1, 2]' },
    ]);
  });

  it('--json prints a summary that parses, and only it, on stdout', async () => {
    const topic = await createdTopic('produce-json');
    const r = await cli(['produce', topic, file('json.jsonl', orders), '--key-field', 'order_id', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(ANSI);
    expect(JSON.parse(r.stdout)).toEqual({ topic, broker, records: 3, blankLines: 2, keyField: 'order_id', source: join(base, 'json.jsonl') });
  });

  it('--rate paces the records', async () => {
    const topic = await createdTopic('produce-rate', 1);
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ i })).join('\n');
    const started = Date.now();
    const r = await cli(['produce', topic, '-', '--rate', '10'], lines);
    expect(r.code, r.stderr).toBe(0);
    // At 10 per second the 5th record is due 400 ms after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect((await records(topic)).map((m) => m.value)).toEqual(lines.split('\n'));
    const bad = await cli(['produce', topic, '-', '--rate', '0'], lines);
    expect(bad.code).toBe(ExitCode.usage);
    expect(bad.stderr).toMatch(/--rate/);
  });

  describe('bad input sends nothing', () => {
    let topic: string;
    let before: Awaited<ReturnType<typeof offsets>>;

    beforeAll(async () => {
      topic = await createdTopic('produce-bad');
      // Some records already there, so "nothing sent" is the offsets not moving, not an empty topic.
      const r = await cli(['produce', topic, file('seed.jsonl', orders), '--key-field', 'order_id']);
      expect(r.code, r.stderr).toBe(0);
      before = await offsets(topic);
    });

    it('a line that is not JSON: names the line and the fix', async () => {
      const path = file('broken.jsonl', '{"order_id": "o-9", "quantity": 1}\n\n{"order_id": "o-10", quantity: 2}\n{"order_id": "o-11"}\n');
      const r = await cli(['produce', topic, path, '--key-field', 'order_id']);
      expect(r.code).toBe(ExitCode.invalid);
      expect(r.stderr).toMatch(new RegExp(`error: In .*broken\\.jsonl, line 3 is not JSON \\(.*\\); nothing was sent\\.`));
      expect(r.stderr).toMatch(/fix: Each line must hold one JSON value, .*fix or remove line 3 and run again/);
      expect(r.stderr).not.toContain('Sent');
      expect(r.stdout).toBe('');
      expect(await offsets(topic)).toEqual(before);
    });

    it('a line without the key field: names the line, the field and the fix', async () => {
      const r = await cli(['produce', topic, '-', '--key-field', 'order_id'], '{"order_id": "o-9", "quantity": 1}\n{"id": "o-10", "quantity": 2}\n');
      expect(r.code).toBe(ExitCode.invalid);
      expect(r.stderr).toContain("error: In standard input, line 2 has no key field 'order_id'; nothing was sent.");
      expect(r.stderr).toMatch(/fix: Make every line an object whose field 'order_id' holds a string or a number, .*or leave out --key-field.*fix line 2/);
      expect(await offsets(topic)).toEqual(before);
    });

    it('every bad line is named at once, keys that are not strings or numbers too', async () => {
      const r = await cli(['produce', topic, '-', '--key-field', 'order_id', '--json'], '{"order_id": null}\n[1]\nnope\n{"order_id": "fine"}\n');
      expect(r.code).toBe(ExitCode.invalid);
      expect(r.stderr).toMatch(/3 lines cannot be sent: line 1 has a key field 'order_id' that is null; .*line 2 is an array, not a JSON object.*; line 3 is not JSON/);
      expect(JSON.parse(r.stdout).error).toMatchObject({ exitCode: ExitCode.invalid, message: expect.stringContaining('Nothing was sent') });
      expect(await offsets(topic)).toEqual(before);
    });

    it('a topic that does not exist: says `aerogrid topic create` fixes it, and creates nothing', async () => {
      const missing = uniqueName('no-such-topic');
      const r = await cli(['produce', missing, file('good.jsonl', orders), '--key-field', 'order_id']);
      expect(r.code).toBe(ExitCode.notFound);
      expect(r.stderr).toContain(`error: Topic '${missing}' does not exist on ${broker}; nothing was sent.`);
      expect(r.stderr).toContain(`fix: Create it with \`aerogrid topic create ${missing} --broker ${broker}\``);
      expect(await kafka.topicExists(missing)).toBe(false);
    });

    it('a record larger than the topic accepts: names the line before anything is sent; smaller ones go in requests it accepts', async () => {
      const small = uniqueName('produce-small');
      await kafka.ensureTopic(small, { partitions: 1, config: { 'max.message.bytes': '2000' } });
      const line = (n: number, size: number) => JSON.stringify({ n, pad: 'x'.repeat(size) });
      const big = await cli(['produce', small, '-'], [line(1, 10), line(2, 3000), line(3, 10)].join('\n'));
      expect(big.code).toBe(ExitCode.invalid);
      expect(big.stderr).toContain(`error: In standard input, line 2 is larger than topic '${small}' accepts (max.message.bytes 2000); nothing was sent.`);
      expect(big.stderr).toMatch(/fix: Make that record smaller, or raise the topic's max\.message\.bytes/);
      expect((await offsets(small))[0]!.high).toBe('0');
      // Ten records of 600 bytes: more than one request may hold, each sent.
      const many = await cli(['produce', small, '-'], Array.from({ length: 10 }, (_, i) => line(i, 600)).join('\n'));
      expect(many.code, many.stderr).toBe(0);
      expect((await records(small)).map((m) => JSON.parse(m.value).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('a topic name Kafka does not allow, and a file that does not exist', async () => {
      const badName = await cli(['produce', 'or ders', file('good2.jsonl', orders)]);
      expect(badName.code).toBe(ExitCode.invalid);
      expect(badName.stderr).toMatch(/Topic 'or ders' is not a valid Kafka topic name: it has a space/);
      const noFile = await cli(['produce', topic, join(base, 'nope.jsonl')]);
      expect(noFile.code).toBe(ExitCode.notFound);
      expect(noFile.stderr).toMatch(/The file .*nope\.jsonl does not exist; nothing was sent/);
      expect(await offsets(topic)).toEqual(before);
    });
  });
});
