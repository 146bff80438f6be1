// Compiles every grammar under grammar/ with the reference Kaitai Struct
// compiler, so the grammars stay valid Kaitai for the field's own tools.
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const KaitaiStructCompiler = require('kaitai-struct-compiler');

function grammars(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return grammars(p);
    return e.name.endsWith('.ksy') ? [p] : [];
  });
}

async function main() {
  const root = path.resolve(process.argv[2] || path.join(__dirname, '..', '..', 'grammar'));
  const files = grammars(root);
  const compiler = KaitaiStructCompiler;
  let failed = 0;
  for (const file of files) {
    const ksy = yaml.load(fs.readFileSync(file, 'utf8'));
    const importer = {
      importYaml(name) {
        const p = path.join(path.dirname(file), name + '.ksy');
        return Promise.resolve(yaml.load(fs.readFileSync(p, 'utf8')));
      },
    };
    try {
      const out = await compiler.compile('javascript', ksy, importer, false);
      console.log(`ok     ${path.relative(root, file)} (${Object.keys(out).length} file(s))`);
    } catch (e) {
      failed++;
      console.log(`FAILED ${path.relative(root, file)}: ${e && e.s$1 ? e.s$1 : e}`);
      if (e && e.toString) console.log(String(e.toString()));
    }
  }
  if (files.length === 0) { console.log('no grammars found'); process.exit(1); }
  process.exit(failed ? 1 : 0);
}
main();
