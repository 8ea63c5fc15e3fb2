import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers' rules (README: domain ← platform ← db ← services ← activities/api ← workflows),
 * checked on the source itself: each file is parsed with the TypeScript compiler, so a rule
 * sees real import declarations and call expressions, not text that merely looks like them.
 */

const ROOT = path.resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(dir, f));
}

const parse = (file: string, text = fs.readFileSync(path.join(ROOT, file), 'utf8')) =>
  ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);

interface ImportRef {
  specifier: string;
  /** `import type …` / `export type … from`: erased at run time. */
  typeOnly: boolean;
  line: number;
}

/** Every module a file refers to: static imports and re-exports, `import()` and `require()`. */
function importsOf(sf: ts.SourceFile): ImportRef[] {
  const refs: ImportRef[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.importClause?.isTypeOnly ?? false;
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly, line: line(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly, line: line(node) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) refs.push({ specifier: e.text, typeOnly: node.isTypeOnly, line: line(node) });
    } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0]!)) {
      const isDynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const specifier = (node.arguments[0] as ts.StringLiteral).text;
      if (isDynamic || isRequire) refs.push({ specifier, typeOnly: false, line: line(node) });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true, line: line(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

/** The top-level folder a relative import lands in (undefined for packages). */
function targetLayer(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const resolved = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), specifier));
  return resolved.split(path.sep)[0];
}

/** Names that hold a knex instance or transaction by this codebase's habits. */
const DB_NAMES = new Set(['db', 'trx', 'knex', 'Knex']);

/** Is this expression a Db/Knex value: `db`, `trx`, `knex`, `deps.db`, `ctx.deps.db`, `this.db`? */
function isDbValue(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) return isDbValue(e.expression);
  if (ts.isIdentifier(e)) return DB_NAMES.has(e.text);
  if (ts.isPropertyAccessExpression(e)) return DB_NAMES.has(e.name.text);
  return false;
}

/**
 * Knex queries in a file: calling a Db value (`db('tasks')`, `deps.db('users')`), calling a
 * method on one (`db.raw`, `deps.db.transaction`), or importing the knex package for its
 * values. Passing `deps.db` to a db/ function, or `import type { Db }`, is not a query.
 */
function knexQueries(sf: ts.SourceFile): string[] {
  const found: string[] = [];
  const where = (n: ts.Node) => `${sf.fileName}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) || ts.isTaggedTemplateExpression(node)) {
      const callee = ts.isCallExpression(node) ? node.expression : node.tag;
      const onDb = ts.isPropertyAccessExpression(callee) && isDbValue(callee.expression);
      if (isDbValue(callee) || onDb) found.push(`${where(node)} ${callee.getText(sf)}(…)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  for (const ref of importsOf(sf)) {
    if (ref.specifier === 'knex' && !ref.typeOnly) found.push(`${sf.fileName}:${ref.line} imports knex`);
  }
  return found;
}

describe('architecture: layers and the one data path', () => {
  it('the knex-query detector finds queries and ignores passing the Db along', () => {
    const bad = parse(
      'sample.ts',
      [
        "import knex from 'knex';",
        "const a = await deps.db('tasks').where({ id });",
        "const b = await db('tasks');",
        'const c = await ctx.deps.db.transaction(async (trx) => trx("x").insert({}));',
        "const d = deps.db.raw('select 1');",
      ].join('\n'),
    );
    assert.equal(knexQueries(bad).length, 6, knexQueries(bad).join('\n'));
    const good = parse(
      'sample.ts',
      [
        "import type { Db } from '../db/knex';",
        "import { pingDb } from '../db/knex';",
        'const t = await getTask(deps.db, id);',
        'await pingDb(deps.db);',
        'const dbName = config.db;',
      ].join('\n'),
    );
    assert.deepEqual(knexQueries(good), []);
  });

  it('domain/ imports only zod and other domain/ files', () => {
    const offences: string[] = [];
    for (const file of sourceFiles('domain')) {
      for (const ref of importsOf(parse(file))) {
        const inDomain = ref.specifier.startsWith('.') && targetLayer(file, ref.specifier) === 'domain';
        const ok = ref.specifier === 'zod' || inDomain;
        if (!ok) offences.push(`${file}:${ref.line} imports ${ref.specifier}`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it('platform/, db/ and domain/ import nothing from the layers above them', () => {
    const above = new Set(['services', 'activities', 'api', 'workflows', 'main']);
    const offences: string[] = [];
    for (const file of ['platform', 'db', 'domain'].flatMap(sourceFiles)) {
      for (const ref of importsOf(parse(file))) {
        const layer = targetLayer(file, ref.specifier);
        if (layer && above.has(layer)) offences.push(`${file}:${ref.line} imports ${ref.specifier}`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it('services/ import neither their adapters (activities/, api/) nor the wiring (main/)', () => {
    const adapters = new Set(['activities', 'api', 'main']);
    const offences: string[] = [];
    for (const file of sourceFiles('services')) {
      for (const ref of importsOf(parse(file))) {
        const layer = targetLayer(file, ref.specifier);
        if (layer && adapters.has(layer)) offences.push(`${file}:${ref.line} imports ${ref.specifier}`);
      }
    }
    assert.deepEqual(offences, []);
  });

  it('only the wiring itself imports main/: arrows point into it, never out of it', () => {
    const offences: string[] = [];
    for (const dir of ['domain', 'platform', 'db', 'services', 'activities', 'api', 'workflows', 'web']) {
      for (const file of sourceFiles(dir)) {
        for (const ref of importsOf(parse(file))) {
          if (targetLayer(file, ref.specifier) === 'main')
            offences.push(`${file}:${ref.line} imports ${ref.specifier}`);
        }
      }
    }
    assert.deepEqual(offences, []);
  });

  it('api/ and activities/ run no knex query of their own: every table access goes through db/', () => {
    const offences = ['api', 'activities'].flatMap(sourceFiles).flatMap((file) => knexQueries(parse(file)));
    assert.deepEqual(offences, []);
  });

  it('workflows/ import activities only as types (`import type`)', () => {
    const offences: string[] = [];
    for (const file of sourceFiles('workflows')) {
      for (const ref of importsOf(parse(file))) {
        if (targetLayer(file, ref.specifier) === 'activities' && !ref.typeOnly) {
          offences.push(`${file}:${ref.line} imports ${ref.specifier} for its values`);
        }
      }
    }
    assert.deepEqual(offences, []);
  });
});
