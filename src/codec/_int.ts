// Checks and accessors for Java's int and long fields. Longs are JS numbers:
// values beyond 2^53 lose precision (read exactly, then rounded by Number()).

import { InvalidArgumentError } from "../errors.ts";

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63;

/** Throw unless `value` is an integer that fits Java's `int`. */
export function checkInt32(value: unknown, path: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < -0x80000000 ||
    value > 0x7fffffff
  ) {
    throw new InvalidArgumentError(path, `must be a 32-bit integer, got ${String(value)}`);
  }
  return value;
}

/** Throw unless `value` is an integer that fits Java's `long`. */
export function checkInt64(value: unknown, path: string): number {
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < INT64_MIN ||
    value >= INT64_LIMIT
  ) {
    throw new InvalidArgumentError(path, `must be a 64-bit integer, got ${String(value)}`);
  }
  return value;
}

/** Read a big-endian signed 64-bit integer as a number (lossy beyond 2^53). */
export function getInt64(view: DataView, pos: number): number {
  return Number(view.getBigInt64(pos));
}

/** Write a number that passed {@linkcode checkInt64} as a big-endian long. */
export function setInt64(view: DataView, pos: number, value: number): void {
  view.setBigInt64(pos, BigInt(value));
}

const DIGITS = /^\d+$/;
const INT_LIMITS = {
  32: [-(2n ** 31n), 2n ** 31n - 1n],
  64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

/**
 * Java's `Integer.parseInt`/`Long.parseLong` of a decimal string (optional
 * sign, any number of leading zeros, range checked); `undefined` if invalid.
 * Linear in the length of the text.
 */
export function parseJavaInteger(text: string, bits: 32 | 64): number | undefined {
  // Up to 15 digits (every header number in practice) fit a double exactly:
  // no regular expression, no BigInt.
  if (text.length <= 16) {
    const first = text.charCodeAt(0);
    let i = first === 0x2d || first === 0x2b ? 1 : 0;
    if (i === text.length) return undefined;
    let value = 0;
    for (; i < text.length; i++) {
      const digit = text.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) return undefined;
      value = value * 10 + digit;
    }
    if (first === 0x2d) value = value === 0 ? 0 : -value;
    if (bits === 32 && (value < -0x80000000 || value > 0x7fffffff)) return undefined;
    return value;
  }
  const sign = text.charCodeAt(0);
  const negative = sign === 0x2d;
  let digits = negative || sign === 0x2b ? text.slice(1) : text;
  if (!DIGITS.test(digits)) return undefined;
  let first = 0;
  while (first < digits.length - 1 && digits.charCodeAt(first) === 0x30) first++;
  digits = digits.slice(first);
  if (digits.length > 19) return undefined; // beyond any long
  const value = BigInt(negative ? "-" + digits : digits);
  const [min, max] = INT_LIMITS[bits];
  if (value < min || value > max) return undefined;
  return Number(value);
}
