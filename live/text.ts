// DuckDB VARCHAR semantics for live filters: code point (= UTF-8 byte) order, LIKE/ILIKE without escapes, lower().
// Invariant: each function answers as DuckDB does; tests/live/filter.test.ts checks them against DuckDB itself.

/**
 * Code points whose lowercase differs between JS (ICU) and DuckDB's lower() (utf8proc, per code point, simple
 * mappings): U+0130 lowers to "i" (JS gives "i̇"), and the uppercase letters of Unicode 16, which DuckDB 1.5's
 * tables do not know yet, stay as they are. tests/live/filter.test.ts compares every code point with DuckDB.
 */
const LOWER_EXCEPTIONS = new Map<number, number>([[0x130, 0x69]]);
for (const cp of [0x1c89, 0xa7cb, 0xa7cc, 0xa7ce, 0xa7d2, 0xa7d4, 0xa7da, 0xa7dc]) LOWER_EXCEPTIONS.set(cp, cp);
for (let cp = 0x10d50; cp <= 0x10d65; cp++) LOWER_EXCEPTIONS.set(cp, cp);
for (let cp = 0x16ea0; cp <= 0x16eb8; cp++) LOWER_EXCEPTIONS.set(cp, cp);

/** Strings that String#toLowerCase would get wrong: the exceptions above and Σ (JS applies the final-sigma rule). */
const NEEDS_PER_CODE_POINT = /[\u0130\u03a3\u1c89\ua7cb\ua7cc\ua7ce\ua7d2\ua7d4\ua7da\ua7dc\u{10d50}-\u{10d65}\u{16ea0}-\u{16eb8}]/u;

/** DuckDB's lower(): each code point mapped on its own, never context-dependent, never changing the count. */
export function lowerCaseAsDuckDB(s: string): string {
  if (!NEEDS_PER_CODE_POINT.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const mapped = LOWER_EXCEPTIONS.get(ch.codePointAt(0)!);
    // A lone "Σ" has no preceding letter, so JS lowers it to "σ", as DuckDB does everywhere.
    out += mapped === undefined ? ch.toLowerCase() : String.fromCodePoint(mapped);
  }
  return out;
}

/** True when s has a UTF-16 unit at or above U+D800, the only ones whose UTF-16 order differs from code point order. */
export function hasHighUnits(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0xd800) return true;
  return false;
}

/**
 * Order of two strings as DuckDB orders VARCHAR (bytewise UTF-8, which is code point order). JS `<` compares UTF-16
 * units, which puts astral characters (surrogates, D800–DFFF) before E000–FFFF; shifting units fixes that.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return shiftUnit(x) - shiftUnit(y);
  }
  return a.length - b.length;
}

function shiftUnit(u: number): number {
  return u < 0xd800 ? u : u >= 0xe000 ? u - 0x800 : u + 0x2000;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const native = String.prototype as unknown as { isWellFormed?: (this: string) => boolean };
const isWellFormed: (s: string) => boolean = native.isWellFormed
  ? (s) => native.isWellFormed!.call(s)
  : (s) => !/[\ud800-\udfff]/.test(s) || s.replace(LONE_SURROGATE, '') === s;

/**
 * Text as DuckDB holds it: a lone surrogate cannot be UTF-8, and becomes U+FFFD when bound or written to the lake.
 * Filter constants and row strings both go through this, so a malformed event matches as its lake row would.
 */
export function toWellFormed(s: string): string {
  return isWellFormed(s) ? s : s.replace(LONE_SURROGATE, '\ufffd');
}

const PERCENT = 0x25;
const UNDERSCORE = 0x5f;
const ANY_ONE = -1;

/**
 * A matcher for `s LIKE pattern` as DuckDB evaluates it without an ESCAPE clause: `%` is any run of code points,
 * `_` exactly one code point, and every other character (the backslash included) stands for itself.
 * Linear-ish in the string (no backtracking): `%`-separated pieces are matched leftmost-first, which is exact
 * because every piece has a fixed length.
 */
export function compileLike(pattern: string): (s: string) => boolean {
  const pieces: number[][] = [[]];
  for (const ch of pattern) {
    const cp = ch.codePointAt(0)!;
    if (cp === PERCENT) pieces.push([]);
    else pieces[pieces.length - 1]!.push(cp === UNDERSCORE ? ANY_ONE : cp);
  }
  const anchoredBoth = pieces.length === 1;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);

  if (!pieces.some((p) => p.includes(ANY_ONE))) {
    // Plain pieces: UTF-16 search on well-formed strings finds exactly the code point matches.
    const text = (p: number[]) => String.fromCodePoint(...p);
    const pre = text(first);
    if (anchoredBoth) return (s) => s === pre;
    const suf = text(last);
    const mids = middle.map(text);
    if (mids.length === 0) {
      if (suf === '') return pre === '' ? () => true : (s) => s.startsWith(pre);
      if (pre === '') return (s) => s.endsWith(suf);
      return (s) => s.length >= pre.length + suf.length && s.startsWith(pre) && s.endsWith(suf);
    }
    if (mids.length === 1 && pre === '' && suf === '') {
      const m = mids[0]!;
      return (s) => s.includes(m);
    }
    return (s) => {
      if (s.length < pre.length + suf.length || !s.startsWith(pre) || !s.endsWith(suf)) return false;
      const end = s.length - suf.length;
      let pos = pre.length;
      for (const m of mids) {
        const at = s.indexOf(m, pos);
        if (at < 0 || at + m.length > end) return false;
        pos = at + m.length;
      }
      return true;
    };
  }

  return (s) => {
    const cps = codePoints(s);
    const n = cps.length;
    if (anchoredBoth) return n === first.length && pieceAt(cps, first, 0);
    if (n < first.length + last.length || !pieceAt(cps, first, 0) || !pieceAt(cps, last, n - last.length)) return false;
    const end = n - last.length;
    let pos = first.length;
    for (const m of middle) {
      let at = pos;
      while (at + m.length <= end && !pieceAt(cps, m, at)) at++;
      if (at + m.length > end) return false;
      pos = at + m.length;
    }
    return true;
  };
}

function pieceAt(cps: number[], piece: number[], at: number): boolean {
  for (let j = 0; j < piece.length; j++) {
    const p = piece[j]!;
    if (p !== ANY_ONE && cps[at + j] !== p) return false;
  }
  return true;
}

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    out.push(c);
    if (c > 0xffff) i++;
  }
  return out;
}
