// generate.js writes ../tablet_models.go, the table of tablet model names
// that the classifier falls back on (see README.md here), from the installed
// npm packages mobile-detect and ua-parser-js (1.x, MIT). generate.sh
// installs them at pinned versions and runs it:
//
//   node generate.js NODE_MODULES OUT.go
//
// Both packages recognise tablets by regular expressions. What is taken
// from them is the names those expressions spell out literally: the
// alternatives of "Android.*\b(A100|A101|...)\b" or "TM-7043|TM-7055|...",
// not patterns such as "[ab][1-7]-?[0178a]\d\d?", which match phones of
// other makers as often as tablets. Names are kept only when they are
// specific (two letters and a digit in five or more letters and digits, or
// two words of eight or more) and no phone rule of either package spells
// them too; a few names the sources got wrong are left out by hand
// (excluded, below).
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const [nodeModules, outFile] = process.argv.slice(2);
if (!nodeModules || !outFile) {
  console.error('usage: node generate.js NODE_MODULES OUT.go');
  process.exit(2);
}

// excluded are names that a source lists as a tablet but are phones; each
// with the reason.
const excluded = new Map([
  ['hm note 1w', 'Xiaomi Redmi Note (HM NOTE 1W), a phone; mobile-detect lists it under MiTablet'],
  ['x67 5g', 'Archos X67 5G, a 6.67-inch phone; ua-parser-js lists it with Archos tablets'],
  ['lenovo a1000', 'Lenovo A1000 names a phone (2016) as well as an IdeaTab (2013)'],
  ['gt-i9200', 'Samsung Galaxy Mega 6.3, a phone; mobile-detect lists it under SamsungTablet'],
  ['gt-i9200x', 'Samsung Galaxy Mega 6.3, a phone; mobile-detect lists it under SamsungTablet'],
  ['gt-i9228', 'Samsung Galaxy Note (China), a phone; mobile-detect lists it under SamsungTablet'],
]);

function pkg(name) {
  const dir = path.join(nodeModules, name);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (meta.license !== 'MIT') {
    throw new Error(`${name} ${meta.version} is licensed ${meta.license}, not MIT: its data cannot be vendored`);
  }
  return {dir, version: meta.version, license: meta.license};
}

// mobileDetect returns mobile-detect's tablet and phone regexes by name.
function mobileDetect(p) {
  const MD = require(path.resolve(p.dir));
  const rules = MD && MD._impl && MD._impl.mobileDetectRules;
  if (!rules || !rules.tablets || !rules.phones) throw new Error('mobile-detect: no _impl.mobileDetectRules.tablets/phones');
  return rules;
}

// uaParser returns ua-parser-js's device rules before its generic section,
// each with the device type it gives: the regexes are not exported, so the
// source is run with its regexes object exposed.
function uaParser(p) {
  const file = path.join(p.dir, 'src', 'ua-parser.js');
  let src = fs.readFileSync(file, 'utf8');
  const anchor = 'var regexes = {';
  if (!src.includes(anchor)) throw new Error(`${file}: no "${anchor}"`);
  // The generic rules ("Android Phones from Unidentified Vendors", by
  // "Mobile" alone) start after this comment; its first regex marks them.
  const mixed = src.indexOf('// MIXED (GENERIC)');
  const m = mixed < 0 ? null : /^\s*\/(.+)\/i\s/m.exec(src.slice(mixed));
  if (!m) throw new Error(`${file}: no generic section ("// MIXED (GENERIC)" and a regex after it)`);
  const firstGeneric = new RegExp(m[1], 'i').source;
  src = src.replace(anchor, 'var regexes = globalThis.__regexes = {');
  const ctx = {module: {exports: {}}};
  ctx.exports = ctx.module.exports;
  ctx.globalThis = ctx;
  vm.createContext(ctx);
  vm.runInContext(src, ctx, {filename: file});
  const dev = ctx.__regexes && ctx.__regexes.device;
  if (!Array.isArray(dev)) throw new Error(`${file}: no device rules`);
  const rules = [];
  for (let i = 0; i < dev.length; i += 2) {
    let type = '';
    for (const prop of dev[i + 1]) {
      if (Array.isArray(prop) && prop[0] === 'type' && typeof prop[1] === 'string') type = prop[1];
    }
    for (const re of dev[i]) {
      if (re.source === firstGeneric) return rules;
      rules.push({re, type});
    }
  }
  throw new Error(`${file}: the generic section's first regex was not found among the device rules`);
}

// ---- regular expressions to names --------------------------------------

const CAP = 512; // most strings one alternative may expand to

class Open extends Error {}

// parse parses the subset of JavaScript regex syntax the sources use.
// Constructs that match open-ended text are kept as "open" nodes.
function parse(src) {
  let i = 0;
  function alt() {
    const alts = [seq()];
    while (src[i] === '|') {
      i++;
      alts.push(seq());
    }
    return {t: 'alt', alts};
  }
  function seq() {
    const items = [];
    while (i < src.length && src[i] !== '|' && src[i] !== ')') items.push(quant(atom()));
    return {t: 'seq', items};
  }
  function quant(a) {
    const c = src[i];
    if (c === '?') {
      i++;
      return {t: 'opt', a};
    }
    if (c === '*' || c === '+') {
      i++;
      if (src[i] === '?') i++;
      return {t: 'open', why: 'repeat', a};
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (m) {
        i += m[0].length;
        if (src[i] === '?') i++;
        const lo = +m[1];
        const hi = m[2] ? (m[3] === '' ? Infinity : +m[3]) : lo;
        if (hi - lo > 3 || hi > 6) return {t: 'open', why: 'bounds', a};
        return {t: 'rep', a, lo, hi};
      }
    }
    return a;
  }
  function atom() {
    const c = src[i];
    if (c === '(') {
      i++;
      let look = false;
      if (src[i] === '?') {
        if (src[i + 1] === ':') i += 2;
        else {
          look = true;
          i += src[i + 1] === '<' ? 3 : 2;
        }
      }
      const inner = alt();
      if (src[i] !== ')') throw new Error(`unclosed group in /${src}/`);
      i++;
      return look ? {t: 'open', why: 'lookaround'} : inner;
    }
    if (c === '[') return cls();
    if (c === '\\') {
      const e = src[i + 1];
      i += 2;
      if (e === 'b') return {t: 'empty'};
      if (e === 's') return {t: 'set', chars: [' ']};
      if ('dwDWSB'.includes(e) || /[0-9]/.test(e)) return {t: 'open', why: '\\' + e};
      return {t: 'set', chars: [e]};
    }
    i++;
    if (c === '.') return {t: 'any'};
    if (c === '^' || c === '$') return {t: 'empty'};
    return {t: 'set', chars: [c]};
  }
  function cls() {
    i++;
    if (src[i] === '^') {
      while (src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
      return {t: 'open', why: 'negated class'};
    }
    const chars = [];
    let open = false;
    while (src[i] !== ']') {
      let c = src[i];
      if (c === '\\') {
        const e = src[i + 1];
        i += 2;
        if (e === 's') c = ' ';
        else if ('dwDWS'.includes(e)) {
          open = true;
          continue;
        } else c = e;
      } else i++;
      if (src[i] === '-' && src[i + 1] !== ']') {
        const esc = src[i + 1] === '\\';
        const hi = esc ? src[i + 2] : src[i + 1];
        i += esc ? 3 : 2;
        for (let k = c.charCodeAt(0); k <= hi.charCodeAt(0); k++) chars.push(String.fromCharCode(k));
      } else chars.push(c);
    }
    i++;
    if (open || chars.length > 12) return {t: 'open', why: 'class'};
    return {t: 'set', chars: [...new Set(chars)]};
  }
  const tree = alt();
  if (i !== src.length) throw new Error(`cannot parse /${src}/ at ${i}`);
  return tree;
}

// strings returns the strings a node matches. Alternatives that are open
// are left out, and an optional open part is taken as absent, so what is
// returned is always a subset of what the regex matches; a node with
// nothing left throws Open.
function strings(n) {
  switch (n.t) {
    case 'alt': {
      const out = [];
      let why = '';
      for (const a of n.alts) {
        try {
          out.push(...strings(a));
        } catch (e) {
          if (!(e instanceof Open)) throw e;
          why = e.message;
        }
      }
      if (out.length === 0) throw new Open(why);
      if (out.length > CAP) throw new Open('too many');
      return out;
    }
    case 'seq': {
      let acc = [''];
      for (const it of n.items) {
        const next = [];
        const s = strings(it);
        for (const a of acc) for (const b of s) next.push(a + b);
        if (next.length > CAP) throw new Open('too many');
        acc = next;
      }
      return acc;
    }
    case 'opt':
      try {
        return ['', ...strings(n.a)];
      } catch (e) {
        if (!(e instanceof Open)) throw e;
        return [''];
      }
    case 'rep': {
      const s = strings(n.a);
      const out = [];
      for (let k = n.lo; k <= n.hi; k++) {
        let acc = [''];
        for (let r = 0; r < k; r++) {
          const next = [];
          for (const a of acc) for (const b of s) next.push(a + b);
          if (next.length > CAP) throw new Open('too many');
          acc = next;
        }
        out.push(...acc);
      }
      return out;
    }
    case 'set':
      return n.chars;
    case 'empty':
      return [''];
  }
  throw new Open(n.why || n.t);
}

// names returns the names a regex spells out: {context, name} for each top
// alternative that expands, where context is what must come before a ".*"
// in it (a maker's name, or "Android") and name what follows.
// Alternatives that do not expand are counted in stats.patterns.
function names(re) {
  const out = [];
  for (const a of parse(re.source).alts) {
    const parts = [[]];
    for (const it of a.items) {
      if (it.t === 'open' && it.why === 'repeat' && it.a.t === 'any') parts.push([]);
      else parts[parts.length - 1].push(it);
    }
    try {
      if (parts.length > 2) throw new Open('two wildcards');
      const last = strings({t: 'seq', items: parts[parts.length - 1]});
      const ctx = parts.length === 2 ? strings({t: 'seq', items: parts[0]}) : [''];
      for (const context of ctx) for (const name of last) out.push({context, name});
    } catch (e) {
      if (!(e instanceof Open)) throw e;
      stats.patterns++;
    }
  }
  return out;
}

// key is the form in which names are stored and models looked up: lower
// case, '_' as a space, without the context words and end marks the
// regexes put around names ("; ", " Build", ")").
function key(context, name) {
  const clean = (s) => s.toLowerCase().replace(/_/g, ' ')
    .replace(/^[;\s]+/, '').replace(/(\s+bui(ld)?|\s+b|[;)\/])$/, '')
    .replace(/[\s.+-]+$/, '').trim();
  let c = clean(context);
  if (c === 'android' || c === 'droid' || c === 'oid') c = '';
  const n = clean(name);
  if (!n || !/^[a-z0-9][a-z0-9 .+-]*$/.test(n) || (c && !/^[a-z0-9][a-z0-9 .+-]*$/.test(c))) return null;
  return {context: c, name: n, key: c ? `${c} ${n}` : n};
}

// specific reports names that name a model rather than a pattern shared by
// many makers' phones ("A10", "S18", "P300", "Z930" are not specific).
function specific(k) {
  const count = (s, re) => (s.match(re) || []).length;
  const letters = count(k.name, /[a-z]/g);
  const digits = count(k.name, /[0-9]/g);
  const words = k.name.split(/[ .-]+/).filter(Boolean).length;
  if (k.context) return letters + digits >= 3;
  return (letters >= 2 && digits >= 1 && letters + digits >= 5) || (words >= 2 && letters + digits >= 8);
}

// ---- main -----------------------------------------------------------------

const stats = {patterns: 0, unusable: 0, unspecific: 0, phone: 0, excluded: 0};

const md = pkg('mobile-detect');
const uap = pkg('ua-parser-js');
const mdRules = mobileDetect(md);
const uapRules = uaParser(uap);

// tablets are the names the tablet rules spell out, with their source;
// phones the keys the phone rules spell out.
const tablets = [];
const phones = new Set();
let tabletPatterns = 0; // tablet alternatives that are patterns, not names
function collect(re, fn) {
  const before = stats.patterns;
  for (const n of names(re)) fn(key(n.context, n.name));
  return stats.patterns - before;
}
for (const [group, re] of Object.entries(mdRules.tablets)) {
  if (group === 'iPad') continue; // iPads are no Android models
  tabletPatterns += collect(re, (k) => tablets.push({k, source: `mobile-detect ${group}`}));
}
for (const re of Object.values(mdRules.phones)) collect(re, (k) => k && phones.add(k.key));
for (const r of uapRules) {
  if (r.type === 'tablet') tabletPatterns += collect(r.re, (k) => tablets.push({k, source: 'ua-parser-js'}));
  else if (r.type === 'mobile') collect(r.re, (k) => k && phones.add(k.key));
}

const kept = new Map();
for (const {k, source} of tablets) {
  if (!k) stats.unusable++;
  else if (!specific(k)) stats.unspecific++;
  else if (phones.has(k.key) || phones.has(k.name)) stats.phone++;
  else if (excluded.has(k.key)) stats.excluded++;
  else kept.set(k.key, (kept.get(k.key) || new Set()).add(source));
}
for (const x of excluded.keys()) {
  if (![...tablets].some((t) => t.k && t.k.key === x)) throw new Error(`excluded name "${x}" is in no source: remove it`);
}
// Byte order, as Go's sort.Strings and slices.BinarySearch compare.
const sorted = [...kept.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));

let go = `// Code generated by modeldata/generate.sh; DO NOT EDIT.

package devices

// knownTabletModels are the tablet model names that mobile-detect ${md.version}
// (MIT) and ua-parser-js ${uap.version} (MIT) spell out, in the form
// knownTabletModel looks models up in: lower case, '_' as a space, maker
// names before the model where the source requires them ("lenovo b6000").
// Sorted, for a binary search. See modeldata/README.md for how they were
// chosen, and modeldata/LICENSE.* for the licences.
var knownTabletModels = [...]string{
`;
let line = '\t';
for (const s of sorted) {
  const lit = JSON.stringify(s) + ',';
  if (line.length + lit.length + 1 > 100) {
    go += line.trimEnd() + '\n';
    line = '\t';
  }
  line += lit + ' ';
}
if (line.trim()) go += line.trimEnd() + '\n';
go += '}\n';
fs.writeFileSync(outFile, go);
console.error(`generate.js: ${sorted.length} names from mobile-detect ${md.version} and ua-parser-js ${uap.version}; ` +
  `left out: ${tabletPatterns} tablet alternatives that are patterns, not names; of the ${tablets.length} names spelled out (with repeats), ` +
  `${stats.unusable} unusable, ${stats.unspecific} not specific, ${stats.phone} also phones, ${stats.excluded} excluded by hand`);
