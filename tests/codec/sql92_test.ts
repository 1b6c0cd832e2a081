import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileSql92, type FilterProperties } from "../../src/codec/sql92.ts";
import { FilterExpressionError } from "../../src/errors.ts";

type Outcome = boolean | null | "error";

function outcome(expression: string, props: FilterProperties): Outcome | "syntax" {
  let filter;
  try {
    filter = compileSql92(expression);
  } catch (err) {
    if (err instanceof FilterExpressionError && err.reason === "syntax") return "syntax";
    throw err;
  }
  try {
    return filter.evaluate(props);
  } catch (err) {
    if (err instanceof FilterExpressionError && err.reason === "evaluation") return "error";
    throw err;
  }
}

// Our own vectors, modelled on RocketMQ's filter tests (ExpressionTest, ParserTest) and on
// reading ComparisonExpression / UnaryExpression / LogicExpression.
const GOLDEN: [string, FilterProperties, Outcome][] = [
  // ExpressionTest's expressions
  ["a=3 and b<>4 And c>5 AND d<=4", { a: "3", b: "5", c: "6", d: "4" }, true],
  ["a=3 and b<>4 And c>5 AND d<=4", { a: "3", b: "4", c: "6", d: "4" }, false],
  ["a=3 or b<>4 Or c>5 OR d<=4", { a: "1", b: "4", c: "1", d: "5" }, false],
  ["a=3 or b<>4 Or c>5 OR d<=4", { a: "1", b: "4", c: "6", d: "5" }, true],
  ["a in ('3', '4', '5')", { a: "4" }, true],
  ["a in ('3', '4', '5')", { a: "6" }, false],
  ["a not in ('3', '4', '5')", { a: "6" }, true],
  ["a in ('3', '4', '5')", {}, null],
  ["a not in ('3', '4', '5')", {}, null],
  ["a between 2 and 10", { a: "2" }, true],
  ["a between 2 and 10", { a: "10" }, true],
  ["a between 2 and 10", { a: "11" }, false],
  ["a not between 2 and 10", { a: "11" }, true],
  ["a not between 2 and 10", { a: "5" }, false],
  ["a is null", {}, true],
  ["a is null", { a: "" }, false],
  ["a is not null", { a: "" }, true],
  ["a is not null and a='hello'", { a: "hello" }, true],
  ["a=TRUE OR b=FALSE", { a: "true" }, true],
  ["a=TRUE OR b=FALSE", { a: "false" }, null],
  ["a=TRUE OR b=FALSE", { a: "no", b: "yes" }, true], // Boolean.valueOf("yes") is false
  ["a is null OR a='hello'", {}, true],
  ["TAGS is not null and TAGS='''''tag'''''", { TAGS: "''tag''" }, true],
  ["value contains 'x'", { value: "axb" }, true],
  ["value startswith 'ax'", { value: "axb" }, true],
  ["value endswith 'xb'", { value: "axb" }, true],
  ["value not contains 'x'", { value: "axb" }, false],
  ["value not contains 'x'", { value: "abb" }, true],
  ["value contains ''", { value: "axb" }, false],
  ["value not contains ''", { value: "axb" }, false],
  ["value contains 'x'", {}, false],
  ["value not contains 'x'", {}, false],
  ["NOT (value contains 'x')", {}, true],
  ["'axb' contains 'x'", {}, true],
  ["' ' endswith ' '", {}, true],
  ["'s' contains '\\'", {}, false],
  ["a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", {
    a: "3",
    b: "3",
    c: "axbdc",
  }, true],
  // numbers and coercion
  ["n > 5", { n: "6" }, true],
  ["n > 5", { n: "+6" }, true],
  ["n > 5", { n: "5" }, false],
  ["n > 5", { n: "5.5" }, "error"], // Integer.valueOf("5.5")
  ["n > 5.0", { n: "5.5" }, true],
  ["n > 5.0", { n: " 5.5 " }, true], // Double.valueOf trims
  ["n > 5", { n: " 6" }, "error"], // Integer.valueOf does not
  ["n > 5.0", { n: "1e1" }, true],
  ["n > 5.0", { n: "7d" }, true],
  ["n > 5.0", { n: "NaN" }, true], // Double.compare: NaN above everything
  ["n < 5.0", { n: "-Infinity" }, true],
  ["n > 5", { n: "5000000000" }, "error"], // beyond an int
  ["n > 4294967296", { n: "5000000000" }, true], // a long literal reads the property as a long
  ["n = 9007199254740993", { n: "9007199254740993" }, true],
  ["n = 9007199254740993", { n: "9007199254740992" }, false], // exact, not as doubles
  ["9007199254740993 > 9007199254740992", {}, true],
  ["9007199254740993 > 9007199254740992.0", {}, false], // a long meets a double: as doubles
  ["n = 5", { n: "05" }, true],
  ["n = 5", { n: "five" }, "error"],
  ["n = 5 OR m = 'x'", { n: "five", m: "x" }, "error"], // the failure ends the evaluation
  ["m = 'x' OR n = 5", { n: "five", m: "x" }, true], // OR stops at TRUE first
  ["n > 5 AND m = 1", { n: "1", m: "x" }, false], // AND stops at FALSE first
  ["n <> 5", {}, null],
  ["5 = n", {}, false], // NULL only on the left gives NULL
  ["NOT (5 = n)", {}, true],
  ["n > -5", { n: "-4" }, true],
  ["n > - -5", { n: "4" }, false],
  ["n > -m", { n: "4", m: "1" }, null], // negating a property gives NULL
  ["n BETWEEN 1 AND 2", { n: "1.5" }, "error"],
  ["n BETWEEN 1.0 AND 2", { n: "1.5" }, "error"], // n <= 2 reads n as an int
  ["n BETWEEN 1.0 AND 2.0", { n: "1.5" }, true],
  ["n BETWEEN -5 AND -10", { n: "-7" }, false], // no bound check on negated literals
  ["a > b", { a: "10", b: "9" }, true], // two properties: both as doubles
  ["a > b", { a: "x", b: "9" }, "error"],
  ["a = b", { a: "x", b: "x" }, true],
  ["a = b", { a: "1.0", b: "1" }, false], // strings: equal text only
  ["flag = TRUE", { flag: "TRUE" }, true],
  ["flag = FALSE", { flag: "anything" }, true],
  ["flag", { flag: "true" }, false], // a property as a boolean: never TRUE (it is a string)
  ["NOT flag", { flag: "true" }, true],
  ["flag", {}, null],
  ["(a > 1) = (b > 1)", { a: "2", b: "3" }, true],
  ["(a > 1) = b", { a: "2", b: "true" }, "error"], // Java casts the Boolean to String
  ["1 = TRUE", {}, false],
  ["TRUE", {}, true],
  ["NULL", {}, null],
  ["NULL IS NULL", {}, true],
  ["5 IS NULL", {}, false],
  ["TRUE AND NULL", {}, null],
  ["FALSE AND NULL", {}, false],
  ["TRUE OR NULL", {}, true],
  ["a = 'it''s'", { a: "it's" }, true],
  ["region IN ('eu','us') AND n > 5", { region: "us", n: "6" }, true],
  // precedence: AND over OR, NOT binds tightest
  ["a = 1 OR a = 2 AND b = 3", { a: "1", b: "0" }, true],
  ["(a = 1 OR a = 2) AND b = 3", { a: "1", b: "0" }, false],
  ["NOT a = 1", { a: "1" }, false], // (NOT a) = 1: Boolean vs Integer compares as -1
  ["not a is null", {}, true], // (NOT a) IS NULL: NOT NULL is NULL
  ["not a is null", { a: "x" }, false],
  // comments, case, whitespace
  ["a /* hello */ = 1 -- trailing\n", { a: "1" }, true],
  ["a = 1 -- to the end", { a: "1" }, true],
  ["A = 1", { a: "1" }, null], // property names are case-sensitive
  ["a\tIS\nNOT\r\fNULL", { a: "1" }, true],
  ["$x_1 = 'y'", { $x_1: "y" }, true],
  ["__proto__ = 'y'", {}, null],
  ["constructor IS NULL", {}, true],
];

const SYNTAX: [string, number][] = [
  ["a and between 2 and 10", 6],
  [" a between 10 and 0", 3],
  ["a > 100000000000000000000000", 4],
  ["a > 9223372036854775808", 4],
  ["a > 0.0", 4], // below Double.MIN_VALUE
  ["a > 1e400", 4],
  ["a = NULL", 4],
  ["NULL = a", 0],
  ["TRUE = 1", 5],
  ["a > 'x'", 4],
  ["a > TRUE", 4],
  ["(a > 1) > 2", 3],
  ["'x'", 0],
  ["5", 0],
  ["-a", 0],
  ["NOT 5", 4],
  ["a IN (1)", 6],
  ["a IN ()", 6],
  ["'a' IN ('a')", 4],
  ["value contains x", 15],
  ["value contains 123", 15],
  ["'axb' contains ", 15],
  ["a BETWEEN 'x' AND 'y'", 10],
  ["a BETWEEN 1 AND", 15],
  ["(a > 1", 6],
  ["a > 1)", 5],
  ["a > 1 b", 6],
  ["a >> 1", 3],
  ["a != 1", 2],
  ["a = 'open", 4],
  ["a = 1 /* open", 6],
  ["a = 1 # x", 6],
  ["a.b = 1", 1],
  ["", 0],
  ["   ", 3],
  ["a NOT b", 2],
  ["a IS NOT 1", 9],
  ["a = 007", 5], // "0" then "07": RocketMQ ignores the rest, we refuse it
];

describe("compileSql92() golden vectors", () => {
  for (const [expression, props, expected] of GOLDEN) {
    it(`${JSON.stringify(expression)} on ${JSON.stringify(props)} is ${expected}`, () => {
      assert.equal(outcome(expression, props), expected);
      assert.equal(compileSql92(expression).matches(props), expected === true);
    });
  }

  for (const [expression, position] of SYNTAX) {
    it(`refuses ${JSON.stringify(expression)} at ${position}`, () => {
      assert.throws(
        () => compileSql92(expression),
        (err) =>
          err instanceof FilterExpressionError && err.reason === "syntax" &&
          err.position === position && err.expression === expression,
      );
    });
  }

  it("keeps the expression and names the failing property value", () => {
    const f = compileSql92("n > 5");
    assert.equal(f.expression, "n > 5");
    assert.throws(
      () => f.evaluate({ n: "x" }),
      (e) =>
        e instanceof FilterExpressionError && e.reason === "evaluation" && /"x"/.test(e.message),
    );
  });

  it("refuses a non-string expression with a typed error", () => {
    assert.throws(() => compileSql92(5 as unknown as string), FilterExpressionError);
  });
});

// ---- property test against an independent reference --------------------------------------------

/** Reference values: Java types spelled out; integers as bigint for both int and long. */
type RV =
  | { t: "null" }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "int"; v: bigint }
  | { t: "long"; v: bigint }
  | { t: "double"; v: number };

class RefError extends Error {}

type Operand =
  | { k: "prop"; name: string }
  | { k: "int"; v: bigint }
  | { k: "long"; v: bigint }
  | { k: "double"; v: number }
  | { k: "str"; v: string }
  | { k: "bool"; v: boolean }
  | { k: "neg"; e: Operand };

type Expr =
  | { k: "and" | "or"; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "cmp"; op: ">" | ">=" | "<" | "<="; l: Operand; r: Operand }
  | { k: "eq"; ne: boolean; l: Operand; r: Operand }
  | { k: "between"; not: boolean; v: Operand; lo: Operand; hi: Operand }
  | { k: "in"; not: boolean; name: string; items: string[] }
  | { k: "isnull"; not: boolean; v: Operand }
  | { k: "strop"; op: "CONTAINS" | "STARTSWITH" | "ENDSWITH"; not: boolean; v: Operand; s: string }
  | { k: "lit"; v: boolean }
  | { k: "bare"; name: string };

const NAMES = ["a", "b", "n", "region", "TAGS"];
const WORDS = ["eu", "us", "x", "", "it's", "a b", "Eu"];
const VALUES = [
  "0",
  "1",
  "5",
  "-3",
  "+4",
  "05",
  "2147483647",
  "2147483648",
  "-2147483649",
  "9223372036854775807",
  "9223372036854775808",
  "9007199254740992",
  "9007199254740993",
  "5.5",
  ".5",
  "5.",
  "1e3",
  "-0.0",
  "0.0",
  " 7 ",
  "7f",
  "NaN",
  "Infinity",
  "-Infinity",
  "true",
  "TRUE",
  "false",
  ...WORDS,
];

const name = fc.constantFrom(...NAMES);
const word = fc.constantFrom(...WORDS);
const intLit = fc.bigInt({ min: 0n, max: 2147483647n });
const longLit = fc.oneof(
  fc.bigInt({ min: 2147483648n, max: 9223372036854775807n }),
  fc.constantFrom(2147483648n, 9007199254740992n, 9007199254740993n, 9223372036854775807n),
);
const doubleLit = fc.oneof(
  fc.double({ min: 5e-324, max: 1e300, noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.5, 1.5, 5.0, 5.5, 3.0),
);

const numericOperand: fc.Arbitrary<Operand> = fc.letrec<{ o: Operand }>((tie) => ({
  o: fc.oneof(
    { depthSize: "small", maxDepth: 3, withCrossShrink: true },
    name.map((n): Operand => ({ k: "prop", name: n })),
    intLit.map((v): Operand => ({ k: "int", v })),
    longLit.map((v): Operand => ({ k: "long", v })),
    doubleLit.map((v): Operand => ({ k: "double", v })),
    tie("o").map((e): Operand => ({ k: "neg", e })),
  ),
})).o;

const anyOperand: fc.Arbitrary<Operand> = fc.oneof(
  numericOperand,
  word.map((v): Operand => ({ k: "str", v })),
  fc.boolean().map((v): Operand => ({ k: "bool", v })),
);

const expr: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    fc.record({
      k: fc.constant("cmp" as const),
      op: fc.constantFrom(">" as const, ">=" as const, "<" as const, "<=" as const),
      l: numericOperand,
      r: numericOperand,
    }),
    fc.record({ k: fc.constant("eq" as const), ne: fc.boolean(), l: anyOperand, r: anyOperand }),
    fc.record({
      k: fc.constant("between" as const),
      not: fc.boolean(),
      v: numericOperand,
      lo: numericOperand,
      hi: numericOperand,
    }),
    fc.record({
      k: fc.constant("in" as const),
      not: fc.boolean(),
      name,
      items: fc.array(word, { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ k: fc.constant("isnull" as const), not: fc.boolean(), v: anyOperand }),
    fc.record({
      k: fc.constant("strop" as const),
      op: fc.constantFrom("CONTAINS" as const, "STARTSWITH" as const, "ENDSWITH" as const),
      not: fc.boolean(),
      v: fc.oneof(
        name.map((n): Operand => ({ k: "prop", name: n })),
        word.map((v): Operand => ({ k: "str", v })),
      ),
      s: word,
    }),
    fc.boolean().map((v): Expr => ({ k: "lit", v })),
    name.map((n): Expr => ({ k: "bare", name: n })),
    fc.record({
      k: fc.constantFrom("and" as const, "or" as const),
      l: tie("e"),
      r: tie("e"),
    }),
    fc.record({
      k: fc.constantFrom("and" as const, "or" as const),
      l: tie("e"),
      r: tie("e"),
    }),
    tie("e").map((e): Expr => ({ k: "not", e })),
  ),
})).e;

const props: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  name,
  fc.constantFrom(...VALUES),
  { maxKeys: 5 },
);

// Printing: every sub-expression parenthesized; keywords in a random case.
type Casing = (kw: string) => string;

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function printDouble(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function printOperand(o: Operand, kw: Casing): string {
  switch (o.k) {
    case "prop":
      return o.name;
    case "int":
      return String(o.v);
    case "long":
      return `${o.v}${o.v % 2n === 0n ? "L" : ""}`;
    case "double":
      return printDouble(o.v);
    case "str":
      return quote(o.v);
    case "bool":
      return kw(o.v ? "TRUE" : "FALSE");
    case "neg":
      return `-(${printOperand(o.e, kw)})`;
  }
}

function print(e: Expr, kw: Casing): string {
  const p = (x: Operand) => `(${printOperand(x, kw)})`;
  switch (e.k) {
    case "and":
    case "or":
      return `(${print(e.l, kw)}) ${kw(e.k.toUpperCase())} (${print(e.r, kw)})`;
    case "not":
      return `${kw("NOT")} (${print(e.e, kw)})`;
    case "cmp":
      return `${p(e.l)} ${e.op} ${p(e.r)}`;
    case "eq":
      return `${p(e.l)} ${e.ne ? "<>" : "="} ${p(e.r)}`;
    case "between":
      return `${p(e.v)} ${e.not ? kw("NOT") + " " : ""}${kw("BETWEEN")} ${p(e.lo)} ${kw("AND")} ${
        p(e.hi)
      }`;
    case "in":
      return `${e.name} ${e.not ? kw("NOT") + " " : ""}${kw("IN")} (${
        e.items.map(quote).join(", ")
      })`;
    case "isnull":
      return `${p(e.v)} ${kw("IS")} ${e.not ? kw("NOT") + " " : ""}${kw("NULL")}`;
    case "strop":
      return `${p(e.v)} ${e.not ? kw("NOT") + " " : ""}${kw(e.op)} ${quote(e.s)}`;
    case "lit":
      return kw(e.v ? "TRUE" : "FALSE");
    case "bare":
      return e.name;
  }
}

// The reference: Java's rules written out as tables over the types above.

function refParseInt(s: string, bits: 32 | 64): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new RefError("NumberFormatException");
  const v = BigInt(s);
  const lim = bits === 32 ? 2n ** 31n : 2n ** 63n;
  if (v < -lim || v >= lim) throw new RefError("NumberFormatException");
  return v;
}

function refParseDouble(s: string): number {
  // String.trim(): every char up to U+0020 at both ends
  let t = s;
  while (t.length > 0 && t.charCodeAt(0) <= 32) t = t.slice(1);
  while (t.length > 0 && t.charCodeAt(t.length - 1) <= 32) t = t.slice(0, -1);
  const m = /^([+-]?)(NaN|Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[fFdD]?$/.exec(t);
  if (!m) throw new RefError("NumberFormatException");
  const mag = m[2] === "NaN" ? NaN : m[2] === "Infinity" ? Infinity : parseFloat(m[2]!);
  return m[1] === "-" ? -mag : mag;
}

function doubleOrder(a: number, b: number): number {
  // Double.compare: NaN equals itself and is above everything; -0.0 is below 0.0.
  if (Number.isNaN(a) || Number.isNaN(b)) {
    return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
  }
  if (a === 0 && b === 0) return Math.sign(Number(!Object.is(a, -0)) - Number(!Object.is(b, -0)));
  return a < b ? -1 : a > b ? 1 : 0;
}

const sign = (x: bigint) => (x < 0n ? -1 : x > 0n ? 1 : 0);

function toDouble(v: RV): number {
  if (v.t === "double") return v.v;
  if (v.t === "int" || v.t === "long") return Number(v.v);
  throw new Error("unreachable");
}

const NUMERIC = new Set(["int", "long", "double"]);

/** __compare with string conversion. */
function refCompare(l: RV, r: RV): number {
  if (l.t === r.t) {
    switch (l.t) {
      case "str":
        return l.v === (r as typeof l).v ? 0 : l.v < (r as typeof l).v ? -1 : 1;
      case "bool":
        return Number(l.v) - Number((r as typeof l).v);
      case "int":
      case "long":
        return sign(l.v - (r as typeof l).v);
      case "double":
        return doubleOrder(l.v, (r as typeof l).v);
    }
  }
  if (NUMERIC.has(l.t) && NUMERIC.has(r.t)) {
    if (l.t === "double" || r.t === "double") return doubleOrder(toDouble(l), toDouble(r));
    return sign((l as { v: bigint }).v - (r as { v: bigint }).v);
  }
  if (l.t === "str" && NUMERIC.has(r.t)) {
    const lv: RV = r.t === "double"
      ? { t: "double", v: refParseDouble(l.v) }
      : { t: r.t as "int", v: refParseInt(l.v, r.t === "int" ? 32 : 64) };
    return refCompare(lv, r);
  }
  if (r.t === "str" && NUMERIC.has(l.t)) {
    const rv: RV = l.t === "double"
      ? { t: "double", v: refParseDouble(r.v) }
      : { t: l.t as "int", v: refParseInt(r.v, l.t === "int" ? 32 : 64) };
    return refCompare(l, rv);
  }
  if (l.t === "str" && r.t === "bool") {
    return refCompare({ t: "bool", v: l.v.toLowerCase() === "true" }, r);
  }
  if (l.t === "bool" && r.t === "str") throw new RefError("ClassCastException");
  return -1;
}

function refOperand(o: Operand, p: Record<string, string>): RV {
  switch (o.k) {
    case "prop":
      return Object.hasOwn(p, o.name) ? { t: "str", v: p[o.name]! } : { t: "null" };
    case "int":
      return { t: "int", v: o.v };
    case "long":
      return { t: "long", v: o.v };
    case "double":
      return { t: "double", v: o.v };
    case "str":
      return { t: "str", v: o.v };
    case "bool":
      return { t: "bool", v: o.v };
    case "neg": {
      const v = refOperand(o.e, p);
      if (v.t === "int" || v.t === "long") return { t: v.t, v: -v.v };
      if (v.t === "double") return { t: "double", v: -v.v };
      return { t: "null" };
    }
  }
}

type RB = boolean | null;

function refCmp(op: string, l: Operand, r: Operand, p: Record<string, string>): RB {
  const lv = refOperand(l, p);
  if (lv.t === "null") return null;
  const rv = refOperand(r, p);
  if (rv.t === "null") return null;
  const c = lv.t === "str" && rv.t === "str"
    ? doubleOrder(refParseDouble(lv.v), refParseDouble(rv.v))
    : refCompare(lv, rv);
  return op === ">" ? c > 0 : op === ">=" ? c >= 0 : op === "<" ? c < 0 : c <= 0;
}

function refEq(lv: RV, rv: RV): RB {
  if (lv.t === "null" && rv.t === "null") return true;
  if (lv.t === "null") return null;
  if (rv.t === "null") return false;
  return refCompare(lv, rv) === 0;
}

const isLiteral = (o: Operand) => o.k !== "prop" && o.k !== "neg";
const refNot = (b: RB): RB => (b === null ? null : !b);

/** Parse-time refusals the generator can produce. */
function refSyntaxOk(e: Expr): boolean {
  switch (e.k) {
    case "and":
    case "or":
      return refSyntaxOk(e.l) && refSyntaxOk(e.r);
    case "not":
      return refSyntaxOk(e.e);
    case "eq":
      return !(e.l.k === "bool" && isLiteral(e.r) && e.r.k !== "bool");
    case "between":
      if (e.not || !isLiteral(e.lo) || !isLiteral(e.hi)) return true;
      return refCompare(refOperand(e.hi, {}), refOperand(e.lo, {})) >= 0;
    default:
      return true;
  }
}

function refEval(e: Expr, p: Record<string, string>): RB {
  switch (e.k) {
    case "and": {
      const l = refEval(e.l, p);
      if (l === false) return false;
      const r = refEval(e.r, p);
      if (r === false) return false;
      return l === true && r === true ? true : null;
    }
    case "or": {
      const l = refEval(e.l, p);
      if (l === true) return true;
      const r = refEval(e.r, p);
      if (r === true) return true;
      return l === false && r === false ? false : null;
    }
    case "not":
      return refNot(refEval(e.e, p));
    case "cmp":
      return refCmp(e.op, e.l, e.r, p);
    case "eq": {
      const b = refEq(refOperand(e.l, p), refOperand(e.r, p));
      return e.ne ? refNot(b) : b;
    }
    case "between":
      return e.not
        ? refEval({
          k: "or",
          l: { k: "cmp", op: "<", l: e.v, r: e.lo },
          r: { k: "cmp", op: ">", l: e.v, r: e.hi },
        }, p)
        : refEval({
          k: "and",
          l: { k: "cmp", op: ">=", l: e.v, r: e.lo },
          r: { k: "cmp", op: "<=", l: e.v, r: e.hi },
        }, p);
    case "in": {
      if (!Object.hasOwn(p, e.name)) return null;
      return e.items.includes(p[e.name]!) !== e.not;
    }
    case "isnull": {
      const b = refOperand(e.v, p).t === "null";
      return e.not ? !b : b;
    }
    case "strop": {
      if (e.s === "") return false;
      const v = refOperand(e.v, p);
      if (v.t !== "str") return false;
      const hit = e.op === "CONTAINS"
        ? v.v.includes(e.s)
        : e.op === "STARTSWITH"
        ? v.v.startsWith(e.s)
        : v.v.endsWith(e.s);
      return hit !== e.not;
    }
    case "lit":
      return e.v;
    case "bare":
      return Object.hasOwn(p, e.name) ? false : null;
  }
}

function refOutcome(e: Expr, p: Record<string, string>): Outcome | "syntax" {
  try {
    if (!refSyntaxOk(e)) return "syntax";
  } catch (err) {
    if (err instanceof RefError) return "syntax";
    throw err;
  }
  try {
    return refEval(e, p);
  } catch (err) {
    if (err instanceof RefError) return "error";
    throw err;
  }
}

const casing: fc.Arbitrary<Casing> = fc.constantFrom<Casing>(
  (k) => k,
  (k) => k.toLowerCase(),
  (k) => k[0] + k.slice(1).toLowerCase(),
);

describe("compileSql92() against a reference evaluator", () => {
  it("agrees on generated expressions and property maps", () => {
    fc.assert(
      fc.property(expr, fc.array(props, { minLength: 1, maxLength: 4 }), casing, (e, maps, kw) => {
        const text = print(e, kw);
        for (const p of maps) {
          assert.deepEqual(
            { text, p, outcome: outcome(text, p) },
            { text, p, outcome: refOutcome(e, p) },
          );
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("never throws anything but a syntax error on arbitrary text", () => {
    const pieces = fc.constantFrom(
      "a",
      "n",
      "'x'",
      "'",
      "5",
      "5.5",
      ".",
      "e3",
      "L",
      "(",
      ")",
      ",",
      "=",
      "<>",
      ">",
      "<=",
      "-",
      "+",
      "--",
      "/*",
      "*/",
      "\n",
      " ",
      "AND",
      "OR",
      "NOT",
      "IN",
      "IS",
      "NULL",
      "BETWEEN",
      "TRUE",
      "CONTAINS",
      "#",
      "é",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), fc.string(), (parts, noise) => {
        for (const text of [parts.join(" "), parts.join(""), noise]) {
          try {
            const f = compileSql92(text);
            f.matches({ a: "1", n: "x" });
          } catch (err) {
            assert.ok(err instanceof FilterExpressionError, String(err));
            assert.ok(err.position! >= 0 && err.position! <= text.length);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
