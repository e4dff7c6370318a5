import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, readImportGraph, type Import, type ImportGraph } from './import-graph';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The layers, lowest first. A file may import files of its own unit and of units in lower
 * layers, never of a unit in its own layer or above. README's architecture section says the
 * same in words.
 */
const LAYERS: string[][] = [
  ['domain', 'errors'],
  ['config', 'logger'],
  ['telemetry'],
  ['db', 'process contract'],
  ['security', 'mail', 'health', 'processes', 'metrics', 'connectors'],
  ['services', 'devstack'],
  ['hr', 'scim'],
  ['jobs'],
  ['slack', 'activities'],
  ['workflows', 'temporal'],
  ['http'],
  ['main', 'cli'],
];

/** What workflow code may load at run time besides other workflow files (the sandbox has no Node). */
const WORKFLOW_RUNTIME_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

/** The workflow definitions: the modules the bundle entry (workflows/index.ts) exports from, and the entry. */
function workflowDefinitions(graph: ImportGraph): Set<string> {
  const entry = 'workflows/index.ts';
  return new Set([entry, ...graph.imports.filter((i) => i.from === entry && !i.external).map((i) => i.to)]);
}

/**
 * The unit a file belongs to: its folder under src/ (or the file itself: `errors`, `logger`),
 * `activities`, and for workflows/ either `workflows` (definitions) or `process contract` (the
 * messages, error types and search attributes that clients share with the workflows).
 */
function unitOf(file: string, definitions: Set<string>): string {
  const parts = file.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
  if (parts[0] === 'workflows') return definitions.has(file) ? 'workflows' : 'process contract';
  return parts[0]!;
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

function describeImport(i: Import, fromUnit: string, toUnit: string): string {
  return `${i.from} (${fromUnit}) imports ${i.typeOnly ? 'types from ' : ''}${i.to} (${toUnit})`;
}

/** Imports from a unit to another unit of the same or a higher layer. */
function upwardImports(graph: ImportGraph): string[] {
  const definitions = workflowDefinitions(graph);
  const found: string[] = [];
  for (const i of graph.imports) {
    if (i.external) continue;
    const from = unitOf(i.from, definitions);
    const to = unitOf(i.to, definitions);
    if (from !== to && layerOf(to) >= layerOf(from)) found.push(describeImport(i, from, to));
  }
  return found;
}

/** Units that have no place in LAYERS (a new folder must be given one). */
function unplacedUnits(graph: ImportGraph): string[] {
  const definitions = workflowDefinitions(graph);
  return [...new Set(graph.files.map((f) => unitOf(f, definitions)))].filter((unit) => layerOf(unit) < 0);
}

/** Run-time imports of workflow code that leave workflows/ for anything but the workflow SDK. */
/**
 * The src/domain/ files workflow code may load: pure rules whose own run-time imports are other
 * such files (no package, no Node module, nothing outside src/domain/).
 */
function pureDomainFiles(graph: ImportGraph): Set<string> {
  const pure = new Set(graph.files.filter((f) => f.startsWith('src/domain/')));
  for (let changed = true; changed; ) {
    changed = false;
    for (const i of graph.imports) {
      if (pure.has(i.from) && !i.typeOnly && (i.external || !pure.has(i.to))) {
        pure.delete(i.from);
        changed = true;
      }
    }
  }
  return pure;
}

function workflowRuntimeImports(graph: ImportGraph): string[] {
  const pure = pureDomainFiles(graph);
  return graph.imports
    .filter((i) => i.from.startsWith('workflows/') && !i.typeOnly)
    .filter((i) => (i.external ? !WORKFLOW_RUNTIME_PACKAGES.includes(i.to) : !i.to.startsWith('workflows/') && !pure.has(i.to)))
    .map((i) => `${i.from} loads ${i.to}`);
}

describe('the import graph', () => {
  const graph = readImportGraph(ROOT);

  it('is read whole: value, type-only and re-export imports are all edges', () => {
    const has = (from: string, to: string, typeOnly: boolean) => graph.imports.some((i) => i.from === from && i.to === to && i.typeOnly === typeOnly);
    expect(graph.files).toContain('src/main/api.ts');
    expect(has('src/http/app.ts', 'src/http/deps.ts', true)).toBe(true);
    expect(has('src/main/api-app.ts', 'src/http/app.ts', false)).toBe(true);
    expect(has('workflows/index.ts', 'workflows/offboarding.ts', false)).toBe(true);
  });

  it('has no cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('points one way: no import from a layer to the same layer or a higher one', () => {
    expect(unplacedUnits(graph)).toEqual([]);
    expect(upwardImports(graph)).toEqual([]);
  });

  it('keeps workflow code to the workflow SDK, workflows/ and pure src/domain/ rules at run time (other imports are types only)', () => {
    expect(workflowRuntimeImports(graph)).toEqual([]);
  });

  it('catches a cycle, an upward import and a run-time import in workflow code', () => {
    const edge = (from: string, to: string, typeOnly = false, external = false): Import => ({ from, to, typeOnly, external });
    const bad: ImportGraph = {
      files: ['src/http/app.ts', 'src/http/routes/users.ts', 'src/db/models.ts', 'src/services/users.ts', 'src/domain/roles.ts', 'src/domain/email.ts', 'workflows/index.ts', 'workflows/onboarding.ts', 'workflows/onboarding-messages.ts'],
      imports: [
        edge('src/http/app.ts', 'src/http/routes/users.ts'),
        edge('src/http/routes/users.ts', 'src/http/app.ts', true),
        edge('src/db/models.ts', 'src/services/users.ts', true),
        edge('workflows/index.ts', 'workflows/onboarding.ts'),
        edge('src/services/users.ts', 'workflows/onboarding.ts', true),
        edge('src/services/users.ts', 'workflows/onboarding-messages.ts'),
        edge('workflows/onboarding.ts', 'node:crypto', false, true),
        edge('workflows/onboarding.ts', 'src/db/models.ts'),
        // A pure rule may be loaded; one that loads a package (zod) may not.
        edge('workflows/onboarding.ts', 'src/domain/roles.ts'),
        edge('src/domain/email.ts', 'zod', false, true),
        edge('workflows/onboarding.ts', 'src/domain/email.ts'),
      ],
    };
    expect(importCycles(bad)).toEqual([
      ['src/db/models.ts', 'src/services/users.ts', 'workflows/onboarding.ts'],
      ['src/http/app.ts', 'src/http/routes/users.ts'],
    ]);
    expect(upwardImports(bad)).toEqual([
      'src/db/models.ts (db) imports types from src/services/users.ts (services)',
      'src/services/users.ts (services) imports types from workflows/onboarding.ts (workflows)',
    ]);
    expect(workflowRuntimeImports(bad)).toEqual(['workflows/onboarding.ts loads node:crypto', 'workflows/onboarding.ts loads src/db/models.ts', 'workflows/onboarding.ts loads src/domain/email.ts']);
  });
});
