// Finds the parameters of exported functions and constructors whose doc comment gives no description:
// the API pages' parameter tables then show a type and an empty Description column.
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One parameter with no `@param name - description` in its function's or constructor's doc comment. */
export interface UndocumentedParam {
  pkg: string;
  /** `fn(param)` or `Class.constructor(param)`. */
  where: string;
  /** packages/-relative file and 1-based line of the declaration. */
  at: string;
}

/** `@param` tags of a declaration's own doc comment that carry a description, by parameter name. */
function describedParams(node: ts.Node): Set<string> {
  const names = new Set<string>();
  for (const tag of ts.getJSDocTags(node)) {
    if (!ts.isJSDocParameterTag(tag)) continue;
    const text = (typeof tag.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag.comment) ?? '')
      .replace(/^\s*-\s*/, '').trim();
    if (text.length > 0) names.add(tag.name.getText());
  }
  return names;
}

function hasDocComment(node: ts.Node): boolean {
  return ts.getJSDocCommentsAndTags(node).some((d) => d.kind === ts.SyntaxKind.JSDoc);
}

/** The callables users read a parameter table for: function declarations (each overload) and constructors. */
function callablesOf(decl: ts.Declaration, name: string): { where: string; node: ts.SignatureDeclaration }[] {
  if (ts.isFunctionDeclaration(decl)) return [{ where: name, node: decl }];
  if (ts.isVariableDeclaration(decl) && decl.initializer
    && (ts.isArrowFunction(decl.initializer) || ts.isFunctionExpression(decl.initializer))) {
    // The doc comment sits on the variable statement, not on the arrow function.
    return [{ where: name, node: decl.initializer }];
  }
  if (ts.isClassDeclaration(decl)) {
    return decl.members.filter(ts.isConstructorDeclaration)
      .filter((c) => !c.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword))
      .map((c) => ({ where: `${name}.constructor`, node: c }));
  }
  return [];
}

/**
 * Every parameter of an exported function or public constructor, in the given packages, that lacks a
 * described `@param`. An overload signature without a doc comment of its own is skipped (TypeDoc shows
 * the documented one).
 * @param entries - Each package's entry file; default `packages/<pkg>/src/index.ts` under `repoRoot`.
 */
export function undocumentedParams(
  program: ts.Program,
  repoRoot: string,
  pkgs: readonly string[],
  entries = () => pkgs.map((pkg) => ({ pkg, index: join(repoRoot, 'packages', pkg, 'src/index.ts') })),
): UndocumentedParam[] {
  const checker = program.getTypeChecker();
  const out: UndocumentedParam[] = [];
  for (const { pkg, index } of entries()) {
    const sf = program.getSourceFile(index);
    const mod = sf && checker.getSymbolAtLocation(sf);
    if (!mod) throw new Error(`${index} is not in the program`);
    for (const exported of checker.getExportsOfModule(mod)) {
      const sym = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const decl of sym.declarations ?? []) {
        for (const { where, node } of callablesOf(decl, exported.name)) {
          if (node.parameters.length === 0) continue;
          if (ts.getJSDocTags(ts.isVariableDeclaration(decl) ? decl.parent.parent : node).some((t) => t.tagName.text === 'internal')) continue; // not on the API pages
          const docNode = ts.isVariableDeclaration(decl) ? decl.parent.parent : node;
          if (!hasDocComment(docNode) && ts.isFunctionDeclaration(node) && !node.body) continue;
          const described = describedParams(docNode);
          const file = node.getSourceFile();
          const at = `${relative(join(repoRoot, 'packages'), file.fileName)}:${file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1}`;
          for (const p of node.parameters) {
            const name = ts.isIdentifier(p.name) ? p.name.text : null;
            if (name === 'this') continue;
            // A destructured parameter has no name to tag; any described @param per parameter will do.
            const ok = name ? described.has(name) : described.size >= node.parameters.length;
            if (!ok) out.push({ pkg, where: `${where}(${name ?? p.name.getText()})`, at });
          }
        }
      }
    }
  }
  return out;
}
