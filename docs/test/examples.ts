// Collects the code examples users read — every ```ts block under an `@example` tag in the doc comment
// of a symbol a package exports (or of one of its members), and the first ```ts block of each package
// README — so a test can compile and run them. See isRunnable for which ones are executed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export interface Example {
  /** Stable id, e.g. `moe/src/gate.ts:42` (line of the code fence) or `moe/README.md`. */
  id: string;
  /** Package directory name under packages/. */
  pkg: string;
  code: string;
  /** See {@link isRunnable}. */
  runnable: boolean;
}

export const NO_RUN = /\/\/\s*no-run\b/;

/**
 * An example runs unless it says `// no-run` or leans on context it only declares
 * (`declare const policy: Policy;` type-checks but has no value at run time).
 */
export function isRunnable(code: string): boolean {
  return !NO_RUN.test(code) && !/^\s*declare\s/m.test(code);
}

/** ```ts blocks inside `@example` sections of the doc comments of one file, with their line numbers. */
export function examplesInSource(text: string): { line: number; code: string }[] {
  const found: { line: number; code: string }[] = [];
  for (const m of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, m.index).split('\n').length;
    const lines = m[0].split('\n').map((l) => l.replace(/^\s*\/?\*+\/?\s?/, '').replace(/\s*\*\/\s*$/, ''));
    let inExample = false;
    let fence: string[] | null = null;
    let fenceLine = 0;
    lines.forEach((line, i) => {
      if (fence) {
        if (/^```\s*$/.test(line.trim())) {
          found.push({ line: fenceLine, code: fence.join('\n') });
          fence = null;
        } else fence.push(line);
        return;
      }
      if (/^@\w+/.test(line.trim())) inExample = /^@example\b/.test(line.trim());
      const opened = line.trim().replace(/^@example\s*/, '');
      if (inExample && opened.startsWith('```')) {
        const lang = opened.slice(3).trim();
        if (lang === '' || /^(ts|typescript)$/.test(lang)) {
          fence = [];
          fenceLine = startLine + i;
        }
      }
    });
  }
  return found;
}

/** The first ```ts block of a README (its opening example). */
export function firstTsBlock(markdown: string): string | null {
  const m = markdown.match(/^```(?:ts|typescript)\s*\n([\s\S]*?)^```\s*$/m);
  return m ? m[1] : null;
}

/** One exported symbol of a package and the declarations (with members) whose doc comments users read. */
export interface ExportedSymbol {
  pkg: string;
  name: string;
  /** Whether the symbol's own doc comment has an `@example` tag. */
  hasExample: boolean;
  /** Doc-comment blocks of the symbol and its members: file, and the comment's text and first line. */
  comments: { file: string; line: number; text: string }[];
}

function docComments(node: ts.Node): { line: number; text: string }[] {
  const sf = node.getSourceFile();
  return ts.getJSDocCommentsAndTags(node)
    .filter((d): d is ts.JSDoc => d.kind === ts.SyntaxKind.JSDoc)
    .map((d) => ({ line: sf.getLineAndCharacterOfPosition(d.getStart(sf)).line + 1, text: d.getText(sf) }));
}

function hasExampleTag(node: ts.Node): boolean {
  return ts.getJSDocTags(node).some((t) => t.tagName.text === 'example');
}

/**
 * The public API of every package: the symbols its src/index.ts exports (type and value exports),
 * resolved through re-exports to their declarations, with the doc comments of those declarations and
 * of their members (methods, properties, constructors).
 */
export function exportedSymbols(repoRoot: string): ExportedSymbol[] {
  return exportedSymbolsOf(apiProgram(repoRoot), repoRoot);
}

/** Compiler options of tsconfig.base.json (bundler resolution, the `@r1-ts/source` condition). */
export function baseCompilerOptions(repoRoot: string): ts.CompilerOptions {
  const base = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.base.json'), 'utf8'));
  const { options, errors } = ts.convertCompilerOptionsFromJson(base.compilerOptions, repoRoot);
  if (errors.length) throw new Error(ts.flattenDiagnosticMessageText(errors[0].messageText, '\n'));
  return { ...options, noEmit: true };
}

function packageEntries(repoRoot: string): { pkg: string; index: string }[] {
  const pkgsDir = join(repoRoot, 'packages');
  return readdirSync(pkgsDir).sort()
    .map((pkg) => ({ pkg, index: join(pkgsDir, pkg, 'src/index.ts') }))
    .filter((e) => existsSync(e.index));
}

/** One program over every package's src/index.ts (pass it as oldProgram to reuse its parsed files). */
export function apiProgram(repoRoot: string): ts.Program {
  return ts.createProgram(packageEntries(repoRoot).map((e) => e.index), baseCompilerOptions(repoRoot));
}

export function exportedSymbolsOf(program: ts.Program, repoRoot: string): ExportedSymbol[] {
  const pkgsDir = join(repoRoot, 'packages');
  const entries = packageEntries(repoRoot);
  const checker = program.getTypeChecker();
  const out: ExportedSymbol[] = [];
  for (const { pkg, index } of entries) {
    const sf = program.getSourceFile(index);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const decls = sym.declarations ?? [];
      const comments: ExportedSymbol['comments'] = [];
      for (const decl of decls) {
        const file = relative(pkgsDir, decl.getSourceFile().fileName);
        const nodes: ts.Node[] = [decl];
        if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) nodes.push(...decl.members);
        for (const node of nodes) comments.push(...docComments(node).map((c) => ({ file, ...c })));
      }
      out.push({ pkg, name: exported.name, hasExample: decls.some(hasExampleTag), comments });
    }
  }
  return out;
}

/** The examples of the public API (deduplicated) plus the first ```ts block of each package README. */
export function collectExamples(repoRoot: string, symbols = exportedSymbols(repoRoot)): Example[] {
  const out: Example[] = [];
  const seen = new Set<string>();
  for (const sym of symbols) {
    for (const c of sym.comments) {
      for (const ex of examplesInSource(c.text)) {
        const id = `${c.file}:${c.line + ex.line - 1}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ id, pkg: sym.pkg, code: ex.code, runnable: isRunnable(ex.code) });
      }
    }
  }
  const pkgsDir = join(repoRoot, 'packages');
  for (const pkg of readdirSync(pkgsDir).sort()) {
    const readme = join(pkgsDir, pkg, 'README.md');
    const block = existsSync(readme) ? firstTsBlock(readFileSync(readme, 'utf8')) : null;
    if (block) out.push({ id: `${pkg}/README.md`, pkg, code: block, runnable: isRunnable(block) });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** A file name for an example that is unique, readable and safe. */
export function exampleFileName(ex: Example, index: number): string {
  return `${String(index).padStart(3, '0')}_${ex.id.replace(/[^A-Za-z0-9]+/g, '_')}.ts`;
}
