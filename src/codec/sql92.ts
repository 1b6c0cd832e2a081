/**
 * RocketMQ's SQL92 message filter (`ExpressionType.SQL92`): a parser and an
 * evaluator of the subset RocketMQ's broker understands (`filter` module:
 * `SelectorParser.jj`, `ComparisonExpression`, `UnaryExpression`,
 * `LogicExpression`), as pure functions: no I/O, usable by the client (to
 * refuse a bad expression at `subscribe`) and by the embedded broker (to
 * filter on pull).
 *
 * Grammar: `OR`, `AND`, `NOT`, parentheses; `= <> > >= < <=`;
 * `[NOT] BETWEEN x AND y`; `[NOT] IN ('a', 'b')` (string literals only);
 * `IS [NOT] NULL`; `[NOT] CONTAINS|STARTSWITH|ENDSWITH 'text'`; unary `+` and
 * `-`; literals `'text'` (`''` is a quote), integers (`L` suffix allowed),
 * decimals (`1.5`, `.5`, `5.`, `1e3`), `TRUE`, `FALSE`, `NULL`; property names
 * `[A-Za-z_$][A-Za-z0-9_$]*` (case-sensitive); keywords in any case; `--`
 * line comments and block comments.
 *
 * Semantics are RocketMQ's, quirks included: message properties are strings;
 * compared with a number literal a property is read as that literal's Java
 * type (`Integer.valueOf` for `5`, `Long.valueOf` for `5000000000`,
 * `Double.valueOf` for `5.0`), and a property that does not parse makes the
 * whole evaluation fail (the message does not match, whatever an `OR` says).
 * Two properties compared with `<`/`>` are both read as doubles. A missing
 * property gives NULL, and a comparison with NULL is NULL (not matched), so
 * `n <> 5` does not match a message without `n`. `x = TRUE` matches
 * `"true"` in any case. `IN` only matches strings; `CONTAINS` and friends are
 * FALSE (not NULL) for a missing property and for an empty pattern. A float
 * literal must be at least `Double.MIN_VALUE` (so `0.0` is refused, as by
 * RocketMQ); `BETWEEN` with constant bounds requires low ≤ high.
 *
 * Differences from RocketMQ, deliberate: text after a complete expression is
 * an error here (RocketMQ ignores it: `a > 1 b` is `a > 1` there); a `--`
 * comment may end the text without a line break (RocketMQ then reads two
 * minus signs, so `a > --1` is `a > 1` there and an error here); only
 * ASCII digits count as digits when a property is read as a number;
 * hexadecimal floating-point property values (`0x1p3`) do not parse.
 *
 * @example Compile once, evaluate per message
 * ```ts
 * import { compileSql92 } from "./sql92.ts";
 * import assert from "node:assert/strict";
 *
 * const filter = compileSql92("n > 5 AND region IN ('eu', 'us')");
 * assert.equal(filter.matches({ n: "7", region: "eu" }), true);
 * assert.equal(filter.matches({ n: "3", region: "eu" }), false);
 * assert.equal(filter.matches({ region: "eu" }), false); // n missing: NULL, not matched
 * assert.equal(filter.matches({ n: "seven", region: "eu" }), false); // not a number
 * ```
 *
 * @module
 */

import { FilterExpressionError } from "../errors.ts";

/**
 * Message properties as a filter sees them (user and system properties).
 *
 * @example
 * ```ts
 * import { compileSql92, type FilterProperties } from "./sql92.ts";
 * import assert from "node:assert/strict";
 *
 * const props: FilterProperties = { TAGS: "paid", KEYS: "order-42", n: "7" };
 * assert.equal(compileSql92("TAGS = 'paid' AND n > 5").matches(props), true);
 * ```
 */
export type FilterProperties = Readonly<Record<string, string>>;

/**
 * A compiled SQL92 filter. Compiling is the costly part (microseconds);
 * evaluating is a walk over closures without allocation for the usual
 * comparisons of properties with literals.
 *
 * @example
 * ```ts
 * import { compileSql92, type Sql92Filter } from "./sql92.ts";
 * import assert from "node:assert/strict";
 *
 * const f: Sql92Filter = compileSql92("TAGS = 'paid' OR amount BETWEEN 100 AND 200");
 * assert.equal(f.expression, "TAGS = 'paid' OR amount BETWEEN 100 AND 200");
 * assert.equal(f.evaluate({ TAGS: "paid" }), true);
 * assert.equal(f.evaluate({ amount: "50" }), null); // FALSE OR NULL: unknown
 * assert.equal(f.matches({ amount: "150" }), true);
 * ```
 */
export interface Sql92Filter {
  /** The expression as given. */
  readonly expression: string;
  /**
   * Evaluate against a message's properties.
   *
   * @param properties The message's properties.
   * @returns `true`, `false`, or `null` (unknown: a NULL took part).
   * @throws {FilterExpressionError} With reason `"evaluation"` when a
   *   property cannot be read as the number it is compared with (RocketMQ's
   *   broker then does not deliver the message).
   */
  evaluate(properties: FilterProperties): boolean | null;
  /**
   * Whether a message matches, as RocketMQ's broker decides: only `true`
   * matches; `false`, `null` and a failed evaluation do not.
   *
   * @param properties The message's properties.
   * @returns Whether the message is delivered.
   */
  matches(properties: FilterProperties): boolean;
}

/**
 * Compile a SQL92 filter expression.
 *
 * @param expression The expression, e.g. `"n > 5 AND region IN ('eu','us')"`.
 * @returns The compiled filter.
 * @throws {FilterExpressionError} With reason `"syntax"` and the offending
 *   position when the expression does not compile (RocketMQ's broker answers
 *   such a subscription with SUBSCRIPTION_PARSE_FAILED).
 *
 * @example
 * ```ts
 * import { compileSql92 } from "./sql92.ts";
 * import { FilterExpressionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(compileSql92("flag = TRUE").matches({ flag: "True" }), true);
 * assert.throws(() => compileSql92("n >> 5"), (e) => e instanceof FilterExpressionError && e.position === 3);
 * assert.throws(() => compileSql92("n BETWEEN 10 AND 0"), FilterExpressionError);
 * ```
 */
export function compileSql92(expression: string): Sql92Filter {
  if (typeof expression !== "string") {
    throw new FilterExpressionError(
      "syntax",
      String(expression),
      "the expression must be a string",
    );
  }
  const parser = new Parser(expression);
  const root = parser.parse();
  const run = compile(root);
  return {
    expression,
    evaluate(properties: FilterProperties): boolean | null {
      let value: Value;
      try {
        value = run(properties);
      } catch (err) {
        if (err instanceof EvalFailure) {
          throw new FilterExpressionError("evaluation", expression, err.message);
        }
        throw err;
      }
      return value === true ? true : value === false ? false : null;
    },
    matches(properties: FilterProperties): boolean {
      try {
        return run(properties) === true;
      } catch (err) {
        if (err instanceof EvalFailure) return false;
        throw err;
      }
    },
  };
}

// ---- values -------------------------------------------------------------------------------------

const INT = 0;
const LONG = 1;
const DOUBLE = 2;

/** A Java number: `Integer` (number), `Long` (bigint) or `Double` (number). */
class JNum {
  constructor(readonly kind: 0 | 1 | 2, readonly n: number, readonly b: bigint) {}
  static int(n: number): JNum {
    return new JNum(INT, n, 0n);
  }
  static long(b: bigint): JNum {
    return new JNum(LONG, 0, b);
  }
  static double(n: number): JNum {
    return new JNum(DOUBLE, n, 0n);
  }
}

type Value = null | boolean | string | JNum;

/** Evaluation failed as a Java exception would (NumberFormatException, ClassCastException). */
class EvalFailure extends Error {}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const JAVA_INTEGER = /^[+-]?[0-9]+$/;
const JAVA_DOUBLE =
  /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;

function numberFormat(s: string): EvalFailure {
  return new EvalFailure(`NumberFormatException: For input string: ${JSON.stringify(s)}`);
}

/** `Integer.valueOf(String)`. */
function javaInt(s: string): number {
  if (!JAVA_INTEGER.test(s)) throw numberFormat(s);
  const n = Number(s);
  if (n < INT_MIN || n > INT_MAX) throw numberFormat(s);
  return n === 0 ? 0 : n; // no -0
}

/** `Long.valueOf(String)`. */
function javaLong(s: string): bigint {
  if (!JAVA_INTEGER.test(s)) throw numberFormat(s);
  const b = BigInt(s);
  if (b < LONG_MIN || b > LONG_MAX) throw numberFormat(s);
  return b;
}

/** `Double.valueOf(String)` (decimal forms; leading and trailing control characters and spaces trimmed). */
function javaDouble(s: string): number {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 32) start++;
  while (end > start && s.charCodeAt(end - 1) <= 32) end--;
  const t = start === 0 && end === s.length ? s : s.slice(start, end);
  if (!JAVA_DOUBLE.test(t)) throw numberFormat(s);
  const last = t.charCodeAt(t.length - 1);
  // f F d D: a type suffix Double.valueOf ignores.
  const body = last === 0x66 || last === 0x46 || last === 0x64 || last === 0x44
    ? t.slice(0, -1)
    : t;
  return Number(body);
}

/** `Boolean.valueOf(String)`. */
function javaBoolean(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === "true";
}

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `Double.compare`: -0.0 < 0.0, NaN equal to itself and above everything. */
function cmpDouble(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const na = Object.is(a, -0);
    return na === Object.is(b, -0) ? 0 : na ? -1 : 1;
  }
  const an = a !== a;
  return an === (b !== b) ? 0 : an ? 1 : -1;
}

function asDouble(v: JNum): number {
  return v.kind === LONG ? Number(v.b) : v.n;
}

/** `ComparisonExpression.__compare` with string conversion on (as the broker parses). */
function javaCompare(lv: Value, rv: Value): number {
  if (typeof lv === "string") {
    if (typeof rv === "string") return lv < rv ? -1 : lv > rv ? 1 : 0;
    if (typeof rv === "boolean") return cmpNum(+javaBoolean(lv), +rv);
    if (rv instanceof JNum) {
      if (rv.kind === INT) return cmpNum(javaInt(lv), rv.n);
      if (rv.kind === LONG) return cmpBig(javaLong(lv), rv.b);
      return cmpDouble(javaDouble(lv), rv.n);
    }
    return -1;
  }
  if (typeof lv === "boolean") {
    if (typeof rv === "boolean") return cmpNum(+lv, +rv);
    // Java casts the Boolean to String here: ClassCastException.
    if (typeof rv === "string") throw new EvalFailure("ClassCastException: Boolean vs String");
    return -1;
  }
  if (lv instanceof JNum) {
    if (rv instanceof JNum) {
      if (lv.kind === DOUBLE || rv.kind === DOUBLE) return cmpDouble(asDouble(lv), asDouble(rv));
      if (lv.kind === INT && rv.kind === INT) return cmpNum(lv.n, rv.n);
      return cmpBig(lv.kind === LONG ? lv.b : BigInt(lv.n), rv.kind === LONG ? rv.b : BigInt(rv.n));
    }
    if (typeof rv === "string") {
      if (lv.kind === INT) return cmpNum(lv.n, javaInt(rv));
      if (lv.kind === LONG) return cmpBig(lv.b, javaLong(rv));
      return cmpDouble(lv.n, javaDouble(rv));
    }
    return -1;
  }
  return -1;
}

// ---- syntax tree --------------------------------------------------------------------------------

type Node =
  | { k: "const"; pos: number; v: Value; bool: boolean }
  | { k: "prop"; pos: number; name: string }
  | { k: "neg"; pos: number; e: Node }
  | { k: "not"; pos: number; e: Node }
  | { k: "cast"; pos: number; e: Node }
  | { k: "and" | "or"; pos: number; l: Node; r: Node }
  | { k: "eq"; pos: number; l: Node; r: Node }
  | { k: "cmp"; pos: number; op: ">" | ">=" | "<" | "<="; l: Node; r: Node }
  | { k: "in"; pos: number; name: string; set: ReadonlySet<string>; not: boolean }
  | {
    k: "str";
    pos: number;
    op: "CONTAINS" | "STARTSWITH" | "ENDSWITH";
    not: boolean;
    e: Node;
    s: string;
  };

/** Java `BooleanExpression`. */
function isBoolean(n: Node): boolean {
  return n.k === "const" ? n.bool : n.k !== "prop" && n.k !== "neg";
}

// ---- lexer --------------------------------------------------------------------------------------

type TokKind =
  | "id"
  | "int"
  | "float"
  | "string"
  | "kw"
  | "op"
  | "eof";

interface Token {
  kind: TokKind;
  /** Keyword (upper case), operator, or literal image. */
  text: string;
  /** Decoded string literal, or the identifier. */
  value: string;
  pos: number;
}

const KEYWORDS = new Set([
  "NOT",
  "AND",
  "OR",
  "BETWEEN",
  "IN",
  "TRUE",
  "FALSE",
  "NULL",
  "IS",
  "CONTAINS",
  "STARTSWITH",
  "ENDSWITH",
]);

const FLOAT_RE =
  /[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/y;
const DECIMAL_RE = /0|[1-9][0-9]*[lL]?/y;
const ID_RE = /[A-Za-z_$][A-Za-z0-9_$]*/y;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

function lex(src: string): Token[] {
  const tokens: Token[] = [];
  const fail = (pos: number, problem: string): never => {
    throw new FilterExpressionError("syntax", src, problem, pos);
  };
  let i = 0;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const ch = src[i]!;
    if (ch === "-" && src[i + 1] === "-") {
      // A line comment, to its line break or to the end of the text.
      let j = i + 2;
      while (j < src.length && src[j] !== "\n" && src[j] !== "\r") j++;
      i = j + 1;
      continue;
    }
    if (ch === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) fail(i, "unterminated comment");
      i = end + 2;
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      let value = "";
      for (;;) {
        const q = src.indexOf("'", j);
        if (q < 0) fail(i, "unterminated string literal");
        value += src.slice(j, q);
        if (src[q + 1] === "'") {
          value += "'";
          j = q + 2;
          continue;
        }
        j = q + 1;
        break;
      }
      tokens.push({ kind: "string", text: src.slice(i, j), value, pos: i });
      i = j;
      continue;
    }
    if ((c >= 48 && c <= 57) || ch === ".") {
      FLOAT_RE.lastIndex = i;
      const f = FLOAT_RE.exec(src);
      DECIMAL_RE.lastIndex = i;
      const d = DECIMAL_RE.exec(src);
      const fl = f ? f[0].length : 0;
      const dl = d ? d[0].length : 0;
      if (fl === 0 && dl === 0) fail(i, `unexpected character '${ch}'`);
      if (fl > dl) {
        tokens.push({ kind: "float", text: f![0], value: f![0], pos: i });
        i += fl;
      } else {
        tokens.push({ kind: "int", text: d![0], value: d![0], pos: i });
        i += dl;
      }
      continue;
    }
    ID_RE.lastIndex = i;
    const id = ID_RE.exec(src);
    if (id) {
      const upper = id[0].toUpperCase();
      if (KEYWORDS.has(upper)) {
        tokens.push({ kind: "kw", text: upper, value: id[0], pos: i });
      } else {
        tokens.push({ kind: "id", text: id[0], value: id[0], pos: i });
      }
      i += id[0].length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === "<>" || two === ">=" || two === "<=") {
      tokens.push({ kind: "op", text: two, value: two, pos: i });
      i += 2;
      continue;
    }
    if ("=<>(),+-".includes(ch)) {
      tokens.push({ kind: "op", text: ch, value: ch, pos: i });
      i++;
      continue;
    }
    fail(i, `unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(i)!))}`);
  }
  tokens.push({ kind: "eof", text: "", value: "", pos: src.length });
  return tokens;
}

// ---- parser -------------------------------------------------------------------------------------

const NULL_CONST: Node = { k: "const", pos: -1, v: null, bool: true };

class Parser {
  readonly #src: string;
  readonly #tokens: Token[];
  #at = 0;

  constructor(src: string) {
    this.#src = src;
    this.#tokens = lex(src);
  }

  parse(): Node {
    const root = this.#asBoolean(this.#or());
    const next = this.#peek();
    if (next.kind !== "eof") this.#unexpected(next);
    return root;
  }

  #fail(pos: number, problem: string): never {
    throw new FilterExpressionError("syntax", this.#src, problem, pos);
  }

  #peek(ahead = 0): Token {
    return this.#tokens[Math.min(this.#at + ahead, this.#tokens.length - 1)]!;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== "eof") this.#at++;
    return t;
  }

  #unexpected(t: Token): never {
    this.#fail(t.pos, t.kind === "eof" ? "unexpected end of expression" : `unexpected '${t.text}'`);
  }

  #isKw(t: Token, kw: string): boolean {
    return t.kind === "kw" && t.text === kw;
  }

  #isOp(t: Token, op: string): boolean {
    return t.kind === "op" && t.text === op;
  }

  #expectKw(kw: string): Token {
    const t = this.#next();
    if (!this.#isKw(t, kw)) this.#unexpected(t);
    return t;
  }

  #expectOp(op: string): Token {
    const t = this.#next();
    if (!this.#isOp(t, op)) this.#unexpected(t);
    return t;
  }

  #asBoolean(n: Node): Node {
    if (isBoolean(n)) return n;
    if (n.k === "prop") return { k: "cast", pos: n.pos, e: n };
    return this.#fail(n.pos, "expression will not result in a boolean value");
  }

  #or(): Node {
    let left = this.#and();
    while (this.#isKw(this.#peek(), "OR")) {
      const op = this.#next();
      const right = this.#and();
      left = { k: "or", pos: op.pos, l: this.#asBoolean(left), r: this.#asBoolean(right) };
    }
    return left;
  }

  #and(): Node {
    let left = this.#equality();
    while (this.#isKw(this.#peek(), "AND")) {
      const op = this.#next();
      const right = this.#equality();
      left = { k: "and", pos: op.pos, l: this.#asBoolean(left), r: this.#asBoolean(right) };
    }
    return left;
  }

  #equality(): Node {
    let left = this.#comparison();
    for (;;) {
      const t = this.#peek();
      if (this.#isOp(t, "=") || this.#isOp(t, "<>")) {
        this.#next();
        const right = this.#comparison();
        const eq = this.#equal(left, right, t.pos);
        left = t.text === "=" ? eq : { k: "not", pos: t.pos, e: eq };
      } else if (this.#isKw(t, "IS")) {
        this.#next();
        let not = false;
        if (this.#isKw(this.#peek(), "NOT")) {
          this.#next();
          not = true;
        }
        this.#expectKw("NULL");
        const eq: Node = { k: "eq", pos: t.pos, l: left, r: NULL_CONST };
        left = not ? { k: "not", pos: t.pos, e: eq } : eq;
      } else {
        return left;
      }
    }
  }

  #equal(left: Node, right: Node, pos: number): Node {
    for (const side of [left, right]) {
      if (side.k === "const" && side.v === null) this.#fail(side.pos, "NULL cannot be compared");
    }
    if (left.k === "const" && right.k === "const" && left.bool && !right.bool) {
      this.#fail(pos, "a boolean cannot be compared with a non-boolean constant");
    }
    return { k: "eq", pos, l: left, r: right };
  }

  #checkOrdered(n: Node): void {
    if (n.k === "const" ? !(n.v instanceof JNum) : isBoolean(n)) {
      this.#fail(n.pos, "this value cannot be compared with < <= > >=");
    }
  }

  #cmp(op: ">" | ">=" | "<" | "<=", l: Node, r: Node, pos: number): Node {
    this.#checkOrdered(l);
    this.#checkOrdered(r);
    return { k: "cmp", pos, op, l, r };
  }

  #comparison(): Node {
    let left = this.#unary();
    for (;;) {
      const t = this.#peek();
      if (
        t.kind === "op" && (t.text === ">" || t.text === ">=" || t.text === "<" || t.text === "<=")
      ) {
        this.#next();
        left = this.#cmp(t.text, left, this.#unary(), t.pos);
        continue;
      }
      let not = false;
      let kw = t;
      if (this.#isKw(t, "NOT")) {
        const after = this.#peek(1);
        if (
          after.kind !== "kw" ||
          !["CONTAINS", "STARTSWITH", "ENDSWITH", "BETWEEN", "IN"].includes(after.text)
        ) {
          this.#unexpected(t);
        }
        not = true;
        kw = after;
      } else if (
        t.kind !== "kw" ||
        !["CONTAINS", "STARTSWITH", "ENDSWITH", "BETWEEN", "IN"].includes(t.text)
      ) {
        return left;
      }
      this.#next();
      if (not) this.#next();
      switch (kw.text) {
        case "CONTAINS":
        case "STARTSWITH":
        case "ENDSWITH": {
          const s = this.#string();
          left = { k: "str", pos: kw.pos, op: kw.text, not, e: left, s };
          break;
        }
        case "BETWEEN": {
          const low = this.#unary();
          this.#expectKw("AND");
          const high = this.#unary();
          if (not) {
            left = {
              k: "or",
              pos: t.pos,
              l: this.#cmp("<", left, low, t.pos),
              r: this.#cmp(">", left, high, t.pos),
            };
          } else {
            if (low.k === "const" && high.k === "const") {
              if (low.v === null || high.v === null) {
                this.#fail(kw.pos, "the bounds of BETWEEN cannot be NULL");
              }
              let order: number;
              try {
                order = javaCompare(high.v, low.v);
              } catch {
                this.#fail(kw.pos, "the bounds of BETWEEN cannot be compared");
              }
              if (order < 0) {
                this.#fail(kw.pos, "the low bound of BETWEEN must not exceed the high bound");
              }
            }
            left = {
              k: "and",
              pos: t.pos,
              l: this.#cmp(">=", left, low, t.pos),
              r: this.#cmp("<=", left, high, t.pos),
            };
          }
          break;
        }
        default: {
          // IN
          this.#expectOp("(");
          const items = [this.#string()];
          while (this.#isOp(this.#peek(), ",")) {
            this.#next();
            items.push(this.#string());
          }
          this.#expectOp(")");
          if (left.k !== "prop") this.#fail(kw.pos, "IN needs a property on its left");
          left = { k: "in", pos: kw.pos, name: left.name, set: new Set(items), not };
        }
      }
    }
  }

  #string(): string {
    const t = this.#next();
    if (t.kind !== "string") this.#unexpected(t);
    return t.value;
  }

  #unary(): Node {
    const t = this.#peek();
    if (this.#isOp(t, "+")) {
      this.#next();
      return this.#unary();
    }
    if (this.#isOp(t, "-")) {
      this.#next();
      return { k: "neg", pos: t.pos, e: this.#unary() };
    }
    if (this.#isKw(t, "NOT")) {
      this.#next();
      return { k: "not", pos: t.pos, e: this.#asBoolean(this.#unary()) };
    }
    return this.#primary();
  }

  #primary(): Node {
    const t = this.#next();
    switch (t.kind) {
      case "string":
        return { k: "const", pos: t.pos, v: t.value, bool: false };
      case "int":
        return { k: "const", pos: t.pos, v: this.#decimal(t), bool: false };
      case "float": {
        const v = Number(t.text);
        if (v > Number.MAX_VALUE) this.#fail(t.pos, `${t.text} is greater than Double.MAX_VALUE`);
        if (v < Number.MIN_VALUE) this.#fail(t.pos, `${t.text} is less than Double.MIN_VALUE`);
        return { k: "const", pos: t.pos, v: JNum.double(v), bool: false };
      }
      case "id":
        return { k: "prop", pos: t.pos, name: t.value };
      case "kw":
        if (t.text === "TRUE") return { k: "const", pos: t.pos, v: true, bool: true };
        if (t.text === "FALSE") return { k: "const", pos: t.pos, v: false, bool: true };
        if (t.text === "NULL") return { k: "const", pos: t.pos, v: null, bool: true };
        return this.#unexpected(t);
      case "op":
        if (t.text === "(") {
          const inner = this.#or();
          this.#expectOp(")");
          return inner;
        }
        return this.#unexpected(t);
      default:
        return this.#unexpected(t);
    }
  }

  #decimal(t: Token): JNum {
    const digits = t.text.endsWith("l") || t.text.endsWith("L") ? t.text.slice(0, -1) : t.text;
    const b = BigInt(digits);
    if (b > LONG_MAX) this.#fail(t.pos, `${t.text} is out of the range of a long`);
    return b <= BigInt(INT_MAX) ? JNum.int(Number(b)) : JNum.long(b);
  }
}

// ---- evaluation ---------------------------------------------------------------------------------

type Run = (p: FilterProperties) => Value;

const hasOwn = Object.prototype.hasOwnProperty;

function negate(v: JNum): JNum {
  if (v.kind === INT) return JNum.int(0 - v.n);
  if (v.kind === LONG) return JNum.long(-v.b);
  return JNum.double(-v.n);
}

function compile(n: Node): Run {
  switch (n.k) {
    case "const": {
      const v = n.v;
      return () => v;
    }
    case "prop": {
      const name = n.name;
      return (p) => hasOwn.call(p, name) ? p[name]! : null;
    }
    case "neg": {
      // Negating a constant number folds; anything else that is not a number is NULL.
      if (n.e.k === "const" && n.e.v instanceof JNum) {
        const v = negate(n.e.v);
        return () => v;
      }
      const e = compile(n.e);
      return (p) => {
        const v = e(p);
        return v instanceof JNum ? negate(v) : null;
      };
    }
    case "not": {
      const e = compile(n.e);
      return (p) => {
        const v = e(p);
        return v === null ? null : !v;
      };
    }
    case "cast": {
      const e = compile(n.e);
      return (p) => {
        const v = e(p);
        return v === null ? null : v === true;
      };
    }
    case "and": {
      const l = compile(n.l);
      const r = compile(n.r);
      return (p) => {
        const lv = l(p);
        if (lv === false) return false;
        const rv = r(p);
        if (rv === false) return false;
        return lv === null || rv === null ? null : true;
      };
    }
    case "or": {
      const l = compile(n.l);
      const r = compile(n.r);
      return (p) => {
        const lv = l(p);
        if (lv === true) return true;
        const rv = r(p);
        if (rv === true) return true;
        return lv === null || rv === null ? null : false;
      };
    }
    case "eq": {
      const l = compile(n.l);
      const r = compile(n.r);
      return (p) => {
        const lv = l(p);
        const rv = r(p);
        if (lv === null || rv === null) {
          if (lv === rv) return true;
          return lv === null ? null : false;
        }
        return javaCompare(lv, rv) === 0;
      };
    }
    case "cmp": {
      const l = compile(n.l);
      const r = compile(n.r);
      const test = n.op === ">"
        ? (c: number) => c > 0
        : n.op === ">="
        ? (c: number) => c >= 0
        : n.op === "<"
        ? (c: number) => c < 0
        : (c: number) => c <= 0;
      return (p) => {
        const lv = l(p);
        if (lv === null) return null;
        const rv = r(p);
        if (rv === null) return null;
        if (typeof lv === "string" && typeof rv === "string") {
          return test(cmpDouble(javaDouble(lv), javaDouble(rv)));
        }
        return test(javaCompare(lv, rv));
      };
    }
    case "in": {
      const { name, set, not } = n;
      return (p) => {
        if (!hasOwn.call(p, name)) return null;
        return set.has(p[name]!) !== not;
      };
    }
    case "str": {
      const e = compile(n.e);
      const { s, not } = n;
      if (s.length === 0) return () => false;
      const has = n.op === "CONTAINS"
        ? (v: string) => v.includes(s)
        : n.op === "STARTSWITH"
        ? (v: string) => v.startsWith(s)
        : (v: string) => v.endsWith(s);
      return (p) => {
        const v = e(p);
        if (typeof v !== "string") return false;
        return has(v) !== not;
      };
    }
  }
}
