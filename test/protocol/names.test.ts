// The name rules against the fixtures the Python SDK is tested with too
// (sdk/python/tests/test_names.py), and the published schema's definitions of the same names:
// every part accepts and refuses the same names.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  appProblem, checkName, deployedAppProblem, dns1123Problem, gridProblem, internalTopicGrant, NameError, tenantProblem, topicAllowed, topicPatternProblem, topicProblem,
  type NameKind, type NameProblem,
} from '@aerogrid/protocol/names';

type Kind = 'dns1123Label' | 'deployedApp' | 'grid' | 'topic' | 'topicPattern';
const fixtures = JSON.parse(readFileSync(new URL('../../protocol/fixtures/names.json', import.meta.url), 'utf8')) as Record<Kind, { valid: string[]; invalid: string[] }>;

const rules: Record<Kind, { problems: Array<(name: string) => NameProblem | undefined>; checked: NameKind[] }> = {
  dns1123Label: { problems: [dns1123Problem, tenantProblem, appProblem], checked: ['tenant', 'app', 'instance'] },
  deployedApp: { problems: [deployedAppProblem], checked: [] },
  grid: { problems: [gridProblem], checked: ['grid'] },
  topic: { problems: [topicProblem], checked: ['topic'] },
  topicPattern: { problems: [topicPatternProblem], checked: [] },
};

describe.each(Object.keys(rules) as Kind[])('%s names', (kind) => {
  const { problems, checked } = rules[kind];
  it.each(fixtures[kind].valid)('%j is valid', (name) => {
    for (const problem of problems) expect(problem(name)).toBeUndefined();
    for (const k of checked) expect(checkName(k, name)).toBe(name);
  });
  it.each(fixtures[kind].invalid)('%j is refused, saying why', (name) => {
    for (const problem of problems) {
      const found = problem(name);
      expect(found?.reason).toBeTruthy();
      if (found?.suggestion !== undefined) expect(problem(found.suggestion)).toBeUndefined();
    }
    for (const k of checked) expect(() => checkName(k, name)).toThrow(NameError);
  });
});

describe('the aerogrid.yaml schema', () => {
  type Definition = { minLength: number; maxLength: number; pattern: string };
  const schema = JSON.parse(readFileSync(new URL('../../schemas/aerogrid-app.v1.schema.json', import.meta.url), 'utf8')) as { definitions: Record<string, Definition> };
  // As ajv checks a string: lengths in code points, the pattern as a unicode RegExp.
  const fits = (d: Definition, name: string) => [...name].length >= d.minLength && [...name].length <= d.maxLength && new RegExp(d.pattern, 'u').test(name);
  it.each([['dns1123Label', 'dns1123Label'], ['grid', 'gridName'], ['topic', 'topicName']] as const)('defines %s names as the rules do', (kind, definition) => {
    const d = schema.definitions[definition]!;
    for (const name of fixtures[kind].valid) expect(fits(d, name), name).toBe(true);
    for (const name of fixtures[kind].invalid) expect(fits(d, name), name).toBe(false);
  });
});

describe('checkName', () => {
  it('names the kind, the value and the rule', () => {
    expect(() => checkName('app', 'Orders_App')).toThrow(/^invalid app name "Orders_App": must be a DNS-1123 label \(it has uppercase letters/);
    expect(() => checkName('grid', 42)).toThrow('invalid grid name 42: must be a non-empty string');
  });
});

describe('topic allowances', () => {
  it('match exact names and prefixes ending in *', () => {
    expect(topicAllowed('sales.orders', ['sales.*'])).toBe(true);
    expect(topicAllowed('sales', ['sales.*'])).toBe(false);
    expect(topicAllowed('orders', ['orders', 'x'])).toBe(true);
    expect(topicAllowed('orders-eu', ['orders'])).toBe(false);
  });

  it('that reach into the internal aerogrid. topics are told apart, so they are never granted', () => {
    for (const v of ['aerogrid.*', 'aerogrid.sales.*', 'aerogrid.sales.shop.changelog', 'aerogrid*', 'aero*', 'a*']) expect(internalTopicGrant(v), v).toBe(true);
    for (const v of ['orders', 'orders.*', 'aerogridx', 'b*', 'aerogrid-data.*', 'aerogrid']) expect(internalTopicGrant(v), v).toBe(false);
  });
});
