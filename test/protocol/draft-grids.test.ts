// The rule the New app form checks its grids with as they are typed, and the server checks a
// draft's body with: the validator's grid-name message, Python field names, one type per field, caps.
import { describe, expect, it } from 'vitest';
import { MAX_DRAFT_COLUMNS, MAX_DRAFT_GRIDS, MAX_DRAFT_KEY_FIELDS } from '@aerogrid/protocol/console-api';
import { draftGridProblems, normaliseDraftGrids } from '@aerogrid/protocol/draft-grids';
import { checkSpecText } from '../../src/app-spec/load.js';

const grid = (over: Record<string, unknown> = {}) => ({ name: 'sales', key: [{ name: 'product', type: 'str' }], columns: [{ name: 'qty', type: 'int' }], ...over });

describe('draftGridProblems', () => {
  it('takes a grid with a key and typed columns; a bare field name is a str', () => {
    expect(draftGridProblems([grid()])).toEqual([]);
    expect(normaliseDraftGrids([grid({ key: ['product'] })])).toEqual([{ name: 'sales', key: [{ name: 'product', type: 'str' }], columns: [{ name: 'qty', type: 'int' }] }]);
  });

  it('says of a bad grid name what aerogrid validate says of it in aerogrid.yaml', async () => {
    const [problem] = draftGridProblems([grid({ name: 'Bad name' })]);
    expect(problem).toEqual({
      path: 'grids[0].name',
      message: 'spec.grids[0].name "Bad name" has a space; grid names may only hold letters, digits, \'_\' and \'-\'',
      fix: "use 'Bad_name' (grid names start with a letter and hold letters, digits, '_' and '-', at most 63 characters)",
    });
    const yaml = 'apiVersion: aerogrid.dev/v1\nkind: App\nmetadata: {name: shop, tenant: sales}\nspec:\n  topics: [orders]\n  grids:\n    - name: Bad name\n      columns: [qty]\n';
    const checked = await checkSpecText(yaml, 'aerogrid.yaml');
    const fromValidator = checked.problems.find((p) => p.path === 'spec.grids[0].name');
    expect(fromValidator?.message).toBe(problem!.message);
    expect(fromValidator?.hint).toBe(problem!.fix);
  });

  it('wants Python names for the key and columns (they are the record\'s fields), each once, one type each', () => {
    expect(draftGridProblems([grid({ columns: [{ name: 'units-sold', type: 'int' }] })])[0]).toMatchObject({ path: 'grids[0].columns[0].name', message: 'column "units-sold" of grid \'sales\' has \'-\'; only letters, digits and \'_\' are allowed', fix: expect.stringContaining("use 'units_sold'") });
    expect(draftGridProblems([grid({ columns: [{ name: 'class', type: 'int' }] })])[0]?.message).toContain('is a Python keyword');
    expect(draftGridProblems([grid({ columns: [{ name: 'product', type: 'str' }] })])[0]?.message).toContain("'product' is named twice in grid 'sales'");
    expect(draftGridProblems([grid({ columns: [{ name: 'qty', type: 'decimal' }] })])[0]?.message).toBe("the type of 'qty' must be one of str, int, float, bool");
    expect(draftGridProblems([grid(), grid({ name: 'other', columns: [{ name: 'qty', type: 'str' }] })])[0]?.message).toContain("'qty' is int in grid 'sales' but str in grid 'other'");
    expect(draftGridProblems([grid({ key: [] })])[0]?.message).toContain("grid 'sales' needs a key");
    expect(draftGridProblems([grid(), grid()])[0]?.message).toBe("grid 'sales' is declared twice (spec.grids[0] and spec.grids[1])");
  });

  it('caps the grids, columns and key fields a draft declares', () => {
    const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, type: 'int' }));
    expect(draftGridProblems(Array.from({ length: MAX_DRAFT_GRIDS + 1 }, (_, i) => grid({ name: `g${i}` })))[0]?.message).toBe(`${MAX_DRAFT_GRIDS + 1} grids is more than the ${MAX_DRAFT_GRIDS} the form declares`);
    expect(draftGridProblems([grid({ columns: many(MAX_DRAFT_COLUMNS + 1, 'c') })])[0]?.message).toBe(`grid 'sales' has ${MAX_DRAFT_COLUMNS + 1} columns; the form declares at most ${MAX_DRAFT_COLUMNS}`);
    expect(draftGridProblems([grid({ key: many(MAX_DRAFT_KEY_FIELDS + 1, 'k') })])[0]?.message).toContain(`at most ${MAX_DRAFT_KEY_FIELDS}`);
    expect(draftGridProblems([grid({ columns: many(MAX_DRAFT_COLUMNS, 'c') })])).toEqual([]);
  });

  it('refuses what is not a list of grids', () => {
    expect(draftGridProblems('sales')[0]?.message).toBe("'grids' must be a list of {name, key, columns}");
    expect(draftGridProblems([null])[0]?.message).toBe('grids[0] must be {name, key, columns}');
  });
});
