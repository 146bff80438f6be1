// Asks the reference Kaitai Struct compiler (0.11, to JavaScript) whether each
// grammar of a corpus compiles, resolving meta/imports as Kaitai's own
// compiler does: an absolute import (`/common/vlq_base128_le`) relative to the
// corpus root (Kaitai's import path), a relative one (`vlq_base128_le`,
// `../common/foo`) relative to the file that imports it. Used by
// bench/FormatGen.Corpus (docs/corpus.md).
//
//   node compiles.js --root CORPUS_DIR GRAMMAR.ksy...
//   node compiles.js --root CORPUS_DIR --stdin     grammar paths, one a line, on standard input
//
// Prints one JSON line per grammar, in order:
//   {"grammar": PATH, "ok": true, "files": [...], "imports": [ABSOLUTE PATHS]}
//   {"grammar": PATH, "ok": false, "error": "...", "imports": [...]}
// "imports" lists every grammar file the compiler asked for (transitively).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const KaitaiStructCompiler = require('kaitai-struct-compiler');

function message(e) {
  if (e && e.s$1) return String(e.s$1);
  if (e && typeof e.getMessage === 'function') {
    try { return String(e.getMessage()); } catch (_) { /* below */ }
  }
  if (e && e.message) return String(e.message);
  return String(e);
}

async function compileOne(grammar, root) {
  const imports = [];
  const dir = path.dirname(grammar);
  const importer = {
    // The compiler passes a relative import already joined with the importing
    // file's folder, relative to the first grammar's folder ("rel"), and an
    // absolute one without its leading slash ("abs").
    importYaml(name, mode) {
      const file = path.resolve(mode === 'abs' ? root : dir, name + '.ksy');
      imports.push(file);
      try {
        return Promise.resolve(yaml.load(fs.readFileSync(file, 'utf8')));
      } catch (e) {
        return Promise.reject(new Error(`import ${mode} '${name}': ${e.message}`));
      }
    },
  };
  try {
    const ksy = yaml.load(fs.readFileSync(grammar, 'utf8'));
    const files = await KaitaiStructCompiler.compile('javascript', ksy, importer, false);
    return { grammar, ok: true, files: Object.keys(files), imports: [...new Set(imports)] };
  } catch (e) {
    return { grammar, ok: false, error: message(e), imports: [...new Set(imports)] };
  }
}

async function main() {
  const args = process.argv.slice(2);
  let root = null;
  const grammars = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--root') root = args[++i];
    else if (args[i] === '--stdin') grammars.push(...fs.readFileSync(0, 'utf8').split('\n').map(s => s.trim()).filter(Boolean));
    else grammars.push(args[i]);
  }
  if (!root || grammars.length === 0) {
    process.stderr.write('usage: node compiles.js --root CORPUS_DIR (GRAMMAR.ksy... | --stdin)\n');
    process.exit(2);
  }
  root = path.resolve(root);
  for (const g of grammars) {
    const result = await compileOne(path.resolve(g), root);
    fs.writeSync(1, JSON.stringify(result) + '\n');
  }
}

main().catch(e => {
  process.stderr.write(`compiles.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
