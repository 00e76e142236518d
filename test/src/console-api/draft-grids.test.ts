// A draft with declared grids: the template's aerogrid.yaml with only spec.grids and the
// description replaced, and an app.py written for the grids, which the CLI's validator accepts.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { draft } from '../../../src/console-api/templates.js';
import { validateFiles } from '../../../src/console-api/validate.js';

const sales = { name: 'sales', key: [{ name: 'product', type: 'str' }], columns: [{ name: 'qty', type: 'int' }] };

describe('a draft with declared grids', () => {
  it('keeps every line of the template\'s aerogrid.yaml but the grids and the description', () => {
    const template = draft({ template: 'orders-sum', name: 'shop', tenant: 'sales', topic: 'orders' });
    const declared = draft({ template: 'orders-sum', name: 'shop', tenant: 'sales', topic: 'orders', grids: [sales] });
    expect(template.generated).toBe(false);
    expect(declared.generated).toBe(true);
    const spec = parse(declared.yaml);
    expect(spec.spec.grids).toEqual([{ name: 'sales', description: 'one row per product', columns: ['qty'] }]);
    expect(declared.grids).toEqual(spec.spec.grids);
    expect(spec.metadata.description).toBe('The grid sales from topic orders');
    const unchanged = (text: string) => text.split('\n').filter((l) => !/^\s*(- name:|columns:|description:)/.test(l));
    expect(unchanged(declared.yaml)).toEqual(unchanged(template.yaml));
    // With the comments of the template.
    expect(declared.yaml).toContain('replicas: 1              # 0 stops the app');
  });

  it('writes a name YAML would read as another type as text', () => {
    const d = draft({ template: 'blank', name: 'shop', tenant: 'sales', topic: 'orders', grids: [{ ...sales, name: 'null' }, { ...sales, name: 'true' }] });
    expect(parse(d.yaml).spec.grids.map((g: { name: unknown }) => g.name)).toEqual(['null', 'true']);
  });

  it('writes an app.py that validates: a Record of the fields, each grid upserted by its key', async () => {
    const grids = [sales, { name: 'by-region', key: [{ name: 'region', type: 'str' }, { name: 'product', type: 'str' }], columns: [{ name: 'qty', type: 'int' }, { name: 'price', type: 'float' }] }];
    for (const template of ['orders-sum', 'passthrough', 'top-n', 'blank']) {
      const d = draft({ template, name: 'shop', tenant: 'sales', topic: 'orders', grids });
      const code = d.files['app.py']!;
      expect(code).toContain('class Fields(aerogrid.Record):\n    product: str\n    qty: int\n    region: str\n    price: float\n');
      expect(code).toContain("sales_grid[record.product] = {'qty': record.qty}");
      expect(code).toContain(`by_region_grid[f"{record.region}|{record.product}"] = {'qty': record.qty, 'price': record.price}`);
      const checked = await validateFiles(new Map(Object.entries(d.files)));
      expect(checked.problems, template).toEqual([]);
      expect(checked.valid).toBe(true);
    }
  }, 60_000);

  it('refuses bad grids after init\'s own checks, with every problem', () => {
    expect(() => draft({ template: 'orders-sum', name: 'Shop', tenant: 'sales', grids: [{ ...sales, name: 'Bad name' }] })).toThrow(/^Nothing was created: the name 'Shop'/);
    expect(() => draft({ template: 'orders-sum', name: 'shop', tenant: 'sales', grids: [{ ...sales, name: 'Bad name', columns: ['x-y'] }] }))
      .toThrow('Nothing was created: spec.grids[0].name "Bad name" has a space; grid names may only hold letters, digits, \'_\' and \'-\'; column "x-y" of grid \'Bad name\' has \'-\'; only letters, digits and \'_\' are allowed.');
  });
});
