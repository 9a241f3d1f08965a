// import/no-cycle skips `import type`, yet a type-only import still ties two modules together: the cycle
// activities -> adapters -> workflows -> activities went unseen through one. This rule counts every import and
// re-export, type-only or not, between the project's own files (relative specifiers).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

/** @type {Map<string, string[]>} each file's resolved relative imports, read once per lint run */
const importsOf = new Map();

/** @param {string} from @param {string} specifier @returns {string | undefined} */
function resolve(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate));
}

/** @param {string} file @returns {string[]} */
function imports(file) {
  let found = importsOf.get(file);
  if (!found) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    found = ts
      .preProcessFile(text, true, true)
      .importedFiles.map((i) => resolve(file, i.fileName))
      .filter((f) => f !== undefined);
    importsOf.set(file, found);
  }
  return found;
}

/** The shortest chain of imports from `start` back to `target`, or undefined. @returns {string[] | undefined} */
function pathBack(start, target) {
  /** @type {Map<string, string | null>} */
  const cameFrom = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const file = /** @type {string} */ (queue.shift());
    for (const next of imports(file)) {
      if (next === target) {
        const chain = [file];
        for (let at = cameFrom.get(file); at; at = cameFrom.get(at)) chain.unshift(at);
        return chain;
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  return undefined;
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles between project files, type-only imports included.' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const root = context.cwd;
    /** @param {import('estree').Node & { source?: import('estree').Literal | null }} node */
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string') return;
      const target = resolve(file, specifier);
      if (!target) return;
      const chain = target === file ? [] : pathBack(target, file);
      if (!chain) return;
      const names = [file, ...chain, file].map((f) => path.relative(root, f));
      context.report({ node, message: `Import cycle (type imports count too): ${names.join(' -> ')}` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

module.exports = { rules: { 'no-import-cycle': rule } };
