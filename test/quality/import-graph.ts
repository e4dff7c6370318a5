/**
 * The import graph of the application code (src/, activities/, workflows/), read with the
 * TypeScript compiler's own parser and module resolution. Type-only imports are edges too: a
 * cycle of types is still a cycle for whoever reads or moves the code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

const CODE_FOLDERS = ['src', 'activities', 'workflows'];

export interface Import {
  /** The importing file, relative to the root (`src/http/app.ts`). */
  from: string;
  /** The imported file relative to the root, or the package specifier for a library. */
  to: string;
  external: boolean;
  /** `import type` / `export type` (or every named binding type-only): erased at run time. */
  typeOnly: boolean;
}

export interface ImportGraph {
  files: string[];
  imports: Import[];
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause) return false; // import 'x' runs the module
    if (clause.isTypeOnly) return true;
    const bindings = clause.namedBindings;
    return !clause.name && !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
  }
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** Every import, re-export and dynamic import() in the code folders under `root`. */
export function readImportGraph(root: string): ImportGraph {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error(`cannot read ${join(root, 'tsconfig.json')}`);
  const rel = (path: string) => relative(root, path).split(sep).join('/');
  const files = CODE_FOLDERS.flatMap((folder) => tsFiles(join(root, folder)));
  const imports: Import[] = [];
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
      if (!specifier || !ts.isStringLiteralLike(specifier)) return;
      const resolved = ts.resolveModuleName(specifier.text, file, config.options, ts.sys).resolvedModule;
      const external = !resolved || resolved.isExternalLibraryImport === true;
      imports.push({ from: rel(file), to: external ? specifier.text : rel(resolved.resolvedFileName), external, typeOnly });
    };
    const visit = (node: ts.Node) => {
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier, isTypeOnly(node));
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
      else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files: files.map(rel), imports };
}

/** Groups of files that import each other in a ring (Tarjan's strongly connected components). */
export function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>(graph.files.map((f) => [f, []]));
  for (const i of graph.imports) if (!i.external && next.has(i.to)) next.get(i.from)!.push(i.to);
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)!.includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of graph.files) if (!index.has(f)) connect(f);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}
