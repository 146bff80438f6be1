// Parses inputs with the reference Kaitai Struct implementation (compiler 0.11
// to JavaScript, the kaitai-struct JS runtime) and prints each result as one
// line of JSON, so the C# tests can compare Kaitai's object tree with ours
// (docs/kaitai-oracle.md).
//
//   node parse.js [--as-written] GRAMMAR.ksy FILE...   one result per FILE
//   node parse.js --time ROUNDS GRAMMAR.ksy FILE        median seconds of Kaitai's parse of FILE
//   node parse.js --stdin                             one request on standard input:
//     {"grammar": "path.ksy", "asWritten": false, "inputs": [{"name": "a", "base64": "..."}, {"name": "b", "path": "file"}]}
//     an input may give "params": [...], the root type's parameters (a grammar whose root has params)
//
// --as-written (asWritten) compiles the grammar exactly as written, without
// the exclusions below, and runs Kaitai's JS runtime without the corrections
// below (to see Kaitai's own answer where its JS is wrong).
//
// Output, one JSON document per line: first
//   {"compiled": {"grammar", "root", "files", "dropped": [...], "js32": [...]}}
// then for each input, in order,
//   {"input": NAME, "ok": TREE}   or   {"input": NAME, "error": {"kind", "message", "pos", "srcPath"}}
//
// TREE: an object per grammar type, its seq fields in read order then its
// value instances (an instance that throws is {"$error": {...}}); byte arrays
// as lowercase hex; integers as numbers, except integers beyond 2^53 (Kaitai's
// JS runtime reads u8/s8 as doubles), which are {"$double": "exact decimal of
// the double"}; enums as their integers; a struct read
// from its own substream that left octets after its seq fields has them under
// "$slack" (hex). Instances whose
// expression Kaitai's JS evaluates with 32-bit bitwise operators over a 64-bit
// field are {"$js32": VALUE} (see "js32" in the header).
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const KaitaiStructCompiler = require('kaitai-struct-compiler');
const KaitaiStream = require('kaitai-struct/KaitaiStream');

// ---------------------------------------------------------------- errors
// The 0.11 runtime's validation errors drop the stream and the grammar path the
// generated code passes them; keep both (the path says which rule failed).
for (const name of Object.keys(KaitaiStream)) {
  if (!/^Validation\w*Error$/.test(name)) continue;
  const Original = KaitaiStream[name];
  const Wrapped = function (...args) {
    const err = Reflect.construct(Original, args, Wrapped);
    const at = args.findIndex(a => a instanceof KaitaiStream);
    if (at >= 0) {
      err.io = args[at];
      err.pos = absolute(args[at]);
      if (typeof args[at + 1] === 'string') err.srcPath = args[at + 1];
    }
    return err;
  };
  Wrapped.prototype = Original.prototype;
  KaitaiStream[name] = Wrapped;
}
// End-of-stream errors: remember where the short read was.
const ensureBytesLeft = KaitaiStream.prototype.ensureBytesLeft;
KaitaiStream.prototype.ensureBytesLeft = function (length) {
  try {
    return ensureBytesLeft.call(this, length);
  } catch (e) {
    if (e && e.pos === undefined) e.pos = absolute(this);
    throw e;
  }
};

// ---------------------------------------------------------------- runtime bugs
// Bugs of the 0.11 JS runtime, corrected here to the semantics of Kaitai's
// reference runtimes (Java, Python, C#), unless --as-written asks for Kaitai's
// JS exactly as shipped (docs/kaitai-oracle.md lists them):
// - readBytesTerm with include true steps over the terminator while taking
//   it into the result, and then once more if consume is true: with include
//   and consume the field after it loses its first octet; with include and not
//   consume the terminator is consumed all the same.
let runtimeAsIs = false;
const readBytesTerm = KaitaiStream.prototype.readBytesTerm;
KaitaiStream.prototype.readBytesTerm = function (terminator, include, consume, eosError) {
  if (runtimeAsIs || !include) return readBytesTerm.call(this, terminator, include, consume, eosError);
  // Shipped behaviour for include without consume: the result ends with the
  // terminator (if found) and the position is just past it.
  const arr = readBytesTerm.call(this, terminator, true, false, eosError);
  const found = arr.length > 0 && arr[arr.length - 1] === terminator;
  if (found && !consume) this.pos -= 1;
  return arr;
};

// - mapUint8Array (every readBytes) truncates its length to 32 bits
//   (`length |= 0`): a size of 2^32 + 2 reads 2 octets, a size of 2^31 or
//   more turns negative. The reference runtimes refuse a size past the end
//   (end of stream) and a negative one.
const mapUint8Array = KaitaiStream.prototype.mapUint8Array;
KaitaiStream.prototype.mapUint8Array = function (length) {
  if (!runtimeAsIs && length !== (length | 0)) {
    if (length < 0) throw new Error('requested invalid ' + length + ' amount of bytes');
    this.ensureBytesLeft(length); // past any buffer JS holds: end of stream
  }
  if (!runtimeAsIs && length < 0) throw new Error('requested invalid ' + length + ' amount of bytes');
  return mapUint8Array.call(this, length);
};

// - readS8le/readS8be compute a negative value with 32-bit signed XOR, so a
//   low word below 2^31 gives the value plus 2^32 (-2^32 reads as 0). The
//   reference runtimes read the 64-bit two's complement; here as a double,
//   rounded once, as readU8 gives it.
for (const [name, bigEndian] of [['readS8le', false], ['readS8be', true]]) {
  const readS8 = KaitaiStream.prototype[name];
  KaitaiStream.prototype[name] = function () {
    if (runtimeAsIs) return readS8.call(this);
    this.ensureBytesLeft(8);
    const first = bigEndian ? this.readU4be() : this.readU4le();
    const second = bigEndian ? this.readU4be() : this.readU4le();
    const hi = bigEndian ? first : second, lo = bigEndian ? second : first;
    return (hi | 0) * 0x100000000 + lo;
  };
}

/** Offset in the input: substreams are views of the one input buffer. */
function absolute(io) {
  return io.byteOffset + io.pos;
}

function errorOf(e) {
  if (!(e instanceof Error)) return { kind: 'throw', message: String(e), pos: null, srcPath: null };
  return {
    kind: e.name && e.name !== 'Error' ? e.name : e.constructor.name,
    message: e.message,
    pos: typeof e.pos === 'number' ? e.pos : null,
    srcPath: e.srcPath || null,
  };
}

// ---------------------------------------------------------------- grammar
const INT64 = /^[us]8(le|be)?$/;
const BITWISE = /<<|>>|[&|^~]/;

function camel(id) {
  return id.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function upperCamel(id) {
  const c = camel(id);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

function identifiers(expr) {
  return String(expr).match(/[A-Za-z_][A-Za-z0-9_]*/g) || [];
}

/**
 * Kaitai's JavaScript evaluates bitwise operators on 32-bit integers (`raw >> 60`
 * becomes `raw >>> 60`, i.e. a shift by 28 of the low 32 bits). Where such an
 * operator reads a u8/s8 field of the same type, or shifts left by 24 or more
 * (`(b5 % 128) << 28` passes 31 bits), Kaitai's answer is wrong:
 * drop that `valid: expr` (it would fail or pass on the wrong bits) and name the
 * value instances, whose values the comparator then skips. Both are listed in
 * the header so the test can show them.
 */
function exclude32BitExpressions(spec, typePath, dropped, js32) {
  const seq = Array.isArray(spec.seq) ? spec.seq : [];
  const int64 = new Set(seq.filter(a => typeof a.type === 'string' && INT64.test(a.type)).map(a => a.id));
  // A left shift by 24 or more can carry a value past 31 bits, which JS's 32-bit << wraps (mach_o's uleb128).
  const wideShift = expr => [...String(expr).matchAll(/<<\s*(\d+)/g)].some(m => Number(m[1]) >= 24);
  const reads64 = (expr, self) => BITWISE.test(String(expr))
    && (identifiers(expr).some(id => int64.has(id) || (id === '_' && self)) || wideShift(expr));
  for (const a of seq) {
    const v = a.valid;
    if (v && typeof v === 'object' && !Array.isArray(v) && v.expr !== undefined
        && reads64(v.expr, typeof a.type === 'string' && INT64.test(a.type))) {
      dropped.push({ type: typePath, field: a.id, expr: String(v.expr) });
      delete a.valid;
    }
  }
  for (const [id, inst] of Object.entries(spec.instances || {})) {
    if (inst && inst.value !== undefined && reads64(inst.value, false)) {
      js32.push({ type: typePath, instance: id, expr: String(inst.value) });
    }
  }
  for (const [id, sub] of Object.entries(spec.types || {})) {
    exclude32BitExpressions(sub, typePath + '.' + id, dropped, js32);
  }
}

/**
 * A bug of the 0.11 compiler, corrected in its output unless --as-written
 * (docs/kaitai-oracle.md): in a repeated switch with a size, only user-type
 * cases push their octets to _raw_X, but each such case reads its substream
 * from _raw_X[i]; after an element of another case (a string, the default's
 * octets) the index runs ahead of the array and the element is parsed from an
 * empty stream. The octets it pushed are the last ones.
 */
function correctCompiledJs(js) {
  return js.replace(/new KaitaiStream\(this\._raw_(\w+)\[i\]\)/g, 'new KaitaiStream(this._raw_$1[this._raw_$1.length - 1])');
}

function loadYaml(file) {
  return yaml.load(fs.readFileSync(file, 'utf8'));
}

async function compile(grammarPath, asWritten) {
  const ksy = loadYaml(grammarPath);
  const dropped = [], js32 = [];
  const exclude = asWritten ? () => {} : exclude32BitExpressions;
  exclude(ksy, ksy.meta.id, dropped, js32);
  const js32Keys = new Set(js32.map(j => upperCamel(j.type.split('.').pop()) + '.' + camel(j.instance)));
  const dir = path.dirname(grammarPath);
  const importer = {
    importYaml(name, mode) {
      // An absolute import (`/common/foo`, mode 'abs') is relative to Kaitai's import
      // path: KAITAI_IMPORT_ROOT when set (bench/FormatGen.Corpus sets it to the
      // corpus root), else the grammar's folder. A relative one comes joined with
      // the importing file's folder, relative to the grammar's.
      const base = mode === 'abs' && process.env.KAITAI_IMPORT_ROOT ? process.env.KAITAI_IMPORT_ROOT : dir;
      const spec = loadYaml(path.join(base, name.replace(/^\/+/, '') + '.ksy'));
      exclude(spec, spec.meta.id, dropped, js32);
      for (const j of js32) js32Keys.add(upperCamel(j.type.split('.').pop()) + '.' + camel(j.instance));
      return Promise.resolve(spec);
    },
  };
  // Debug mode: _read is called by us, and _debug lists the seq fields in read order.
  const files = await KaitaiStructCompiler.compile('javascript', ksy, importer, true);
  if (!asWritten) for (const key of Object.keys(files)) files[key] = correctCompiledJs(files[key]);
  const modules = {};
  const load = name => {
    const key = name.replace(/^\.\//, '').replace(/\.js$/, '') + '.js';
    if (modules[key]) return modules[key].exports;
    if (!(key in files)) throw new Error(`generated module ${key} not found (have ${Object.keys(files).join(', ')})`);
    const module = { exports: {} };
    modules[key] = module;
    const req = n => (n === 'kaitai-struct/KaitaiStream' || n === 'kaitai-struct' ? KaitaiStream : load(n));
    new Function('exports', 'require', 'module', 'define', 'self', files[key])
      .call(module.exports, module.exports, req, module, undefined, undefined);
    return module.exports;
  };
  const rootName = upperCamel(ksy.meta.id);
  const Root = load(rootName)[rootName];
  if (typeof Root !== 'function') throw new Error(`root type ${rootName} not exported by ${rootName}.js`);
  return { Root, rootName, files: Object.keys(files), dropped, js32, js32Keys };
}

// ---------------------------------------------------------------- trees
function hex(u8) {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.length).toString('hex');
}

function isStruct(v) {
  return v !== null && typeof v === 'object' && v._io instanceof KaitaiStream && typeof v._read === 'function';
}

function getters(obj) {
  const proto = Object.getPrototypeOf(obj);
  return Object.getOwnPropertyNames(proto).filter(n => {
    const d = Object.getOwnPropertyDescriptor(proto, n);
    return d && typeof d.get === 'function' && !n.startsWith('_');
  });
}


function typeName(obj) {
  return obj.constructor && obj.constructor.name ? obj.constructor.name : 'object';
}

function tree(v, js32Keys, parentIo) {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      // JSON has no NaN or infinities (a float field can hold them).
      if (!Number.isFinite(v)) return { $float: String(v) };
      if (Number.isSafeInteger(v) || !Number.isInteger(v)) return v;
      return { $double: BigInt(v).toString() };
    case 'bigint':
      return { $int: v.toString() };
  }
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(e => tree(e, js32Keys, parentIo));
  // parentIo: the streams of the structs this one was found in, innermost first ({io, up}).
  if (isStruct(v)) {
    const out = { $type: typeName(v) };
    for (const k of Object.keys(v._debug || {})) {
      // Fields without an id are Kaitai's _unnamedN: seq fields too.
      if (k.startsWith('_') && !/^_unnamed\d+$/.test(k)) continue;
      out[k] = tree(v[k], js32Keys, { io: v._io, up: parentIo });
    }
    for (const k of getters(v)) {
      let value;
      try {
        value = tree(v[k], js32Keys, { io: v._io, up: parentIo });
      } catch (e) {
        value = { $error: errorOf(e) };
      }
      out[k] = js32Keys.has(out.$type + '.' + k) ? { $js32: value } : value;
    }
    const slack = slackOf(v, parentIo);
    if (slack) out.$slack = slack;
    return out;
  }
  return { $unknown: String(v) };
}

/**
 * The octets a struct read from its own stream (the root's input, or a sized
 * field's substream) left after its seq fields, as hex; null when it shares
 * its parent's stream or used it all.
 */
function slackOf(v, parentIo) {
  const io = v._io;
  // The root's stream is the input; any other struct's, when it is its own (a sized
  // field). Compared with the streams of the structs it was found in (Kaitai gives
  // imported types no _parent): one that reads from an enclosing struct's stream
  // (io: _root._io, io: _parent._io) shares it.
  for (let p = parentIo; p; p = p.up) if (p.io === io) return null;
  let end = 0;
  for (const [k, d] of Object.entries(v._debug || {})) {
    if (k.startsWith('_m_') || !d || typeof d.end !== 'number') continue;
    end = Math.max(end, d.end);
  }
  if (end >= io.size) return null;
  return hex(new Uint8Array(io._buffer, io._byteOffset + end, io.size - end));
}

function parse(compiled, bytes, params) {
  // A fresh buffer at offset 0, so offsets in errors are offsets in the input.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  try {
    // A root with params takes them after (_io, _parent, _root).
    const root = new compiled.Root(new KaitaiStream(copy.buffer), null, null, ...(params || []));
    root._read();
    return { ok: tree(root, compiled.js32Keys) };
  } catch (e) {
    return { error: errorOf(e) };
  }
}

// ---------------------------------------------------------------- main
function readStdin() {
  const chunks = [];
  let n;
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      if (e.code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function write(obj) {
  fs.writeSync(1, JSON.stringify(obj) + '\n');
}

async function main() {
  let args = process.argv.slice(2);
  let grammar, inputs, asWritten = false;
  if (args[0] === '--as-written') {
    asWritten = true;
    runtimeAsIs = true;
    args = args.slice(1);
  }
  if (args[0] === '--time') {
    // node parse.js --time ROUNDS GRAMMAR.ksy FILE: median seconds Kaitai takes to parse FILE (bench/in-memory.sh).
    const rounds = Number(args[1]);
    const compiled = await compile(path.resolve(args[2]), false);
    const bytes = fs.readFileSync(args[3]);
    const buffer = new Uint8Array(bytes.length);
    buffer.set(bytes);
    const times = [];
    for (let i = -1; i < rounds; i++) {
      const start = process.hrtime.bigint();
      const root = new compiled.Root(new KaitaiStream(buffer.buffer), null, null);
      root._read();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (i >= 0) times.push(seconds);
    }
    times.sort((x, y) => x - y);
    write({ median: times[Math.floor(times.length / 2)], rounds });
    return;
  }
  if (args[0] === '--stdin') {
    const request = JSON.parse(readStdin());
    grammar = request.grammar;
    asWritten = asWritten || request.asWritten === true;
    runtimeAsIs = asWritten;
    inputs = (request.inputs || []).map(i => ({
      name: i.name,
      read: () => (i.base64 !== undefined ? Buffer.from(i.base64, 'base64') : fs.readFileSync(i.path)),
      params: i.params,
    }));
  } else if (args.length >= 1 && !args[0].startsWith('-')) {
    grammar = args[0];
    inputs = args.slice(1).map(p => ({ name: p, read: () => fs.readFileSync(p) }));
  } else {
    process.stderr.write('usage: node parse.js [--as-written] GRAMMAR.ksy FILE...  |  node parse.js --stdin < request.json\n');
    process.exit(2);
  }
  let compiled;
  try {
    compiled = await compile(path.resolve(grammar), asWritten);
  } catch (e) {
    process.stderr.write(`parse.js: ${grammar} does not compile: ${e && e.s$1 ? e.s$1 : e}\n`);
    if (e && e.stack) process.stderr.write(e.stack + '\n');
    process.exit(1);
  }
  write({ compiled: { grammar, root: compiled.rootName, files: compiled.files, dropped: compiled.dropped, js32: compiled.js32 } });
  for (const input of inputs) {
    let bytes;
    try {
      bytes = input.read();
    } catch (e) {
      write({ input: input.name, error: { kind: 'input', message: String(e), pos: null, srcPath: null } });
      continue;
    }
    write(Object.assign({ input: input.name }, parse(compiled, bytes, input.params)));
  }
}

main().catch(e => {
  process.stderr.write(`parse.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
