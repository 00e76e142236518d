/**
 * The folders of src/ form layers: no folder imports, directly or through others, a folder that
 * imports it back, and render/ (below the GitOps layer) never imports gitops/. Read from the
 * import statements of src/**\/*.ts, static and dynamic, type-only ones included.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

const SRC = join(packageRoot, 'src');
const SIDECAR_SRC = join(packageRoot, 'sidecar', 'src');
const IMPORT = /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'templates' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** A file's folder under `root` (e.g. `gitops`); a file at the top of `root` is a node of its own. */
function folderOf(root: string, file: string): string {
  return relative(root, file).split('/')[0]!;
}

/** Folder → folder → the imports that make the edge (file -> target). */
function folderGraph(root = SRC): Map<string, Map<string, string[]>> {
  const SRC = root;
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) continue;
      const target = normalize(join(dirname(file), specifier));
      if (relative(SRC, target).startsWith('..')) continue;
      const from = folderOf(SRC, file);
      const to = folderOf(SRC, target.replace(/\.js$/, '.ts'));
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      graph.set(from, edges);
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} -> ${specifier}`]);
    }
  }
  return graph;
}

/** Every strongly connected group of more than one folder (Tarjan). */
function circles(graph: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node)?.keys() ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the folders of src/', () => {
  const graph = folderGraph();

  it('reads the imports it checks (the graph is not empty)', () => {
    expect(graph.get('commands')?.has('gitops')).toBe(true);
    expect(graph.get('gitops')?.has('render')).toBe(true);
  });

  it('import one another without a circle', () => {
    const report = circles(graph).map((group) => {
      const edges = group.flatMap((from) => group.filter((to) => graph.get(from)?.has(to)).flatMap((to) => graph.get(from)!.get(to)!));
      return `${group.join(', ')}:\n  ${edges.join('\n  ')}`;
    });
    expect(report, 'folders that import each other').toEqual([]);
  });

  it('keep render/ below gitops/: render/ never imports gitops/', () => {
    expect(graph.get('render')?.get('gitops') ?? []).toEqual([]);
  });

  it('keep live state out of gitops/ and runner/ out of live/', () => {
    expect(graph.get('gitops')?.get('runner') ?? []).toEqual([]);
    expect(graph.get('gitops')?.get('live') ?? []).toEqual([]);
    expect(graph.get('live')?.get('runner') ?? []).toEqual([]);
  });
});

describe('the folders of sidecar/src/', () => {
  const graph = folderGraph(SIDECAR_SRC);

  it('import one another without a circle (the top files, such as the core, each a node of their own)', () => {
    expect(graph.get('core.ts')?.has('pipeline')).toBe(true);
    expect(circles(graph), 'folders that import each other').toEqual([]);
  });
});
