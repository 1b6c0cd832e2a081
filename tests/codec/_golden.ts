// Loading the golden vectors written by tests/fixtures/java (real RocketMQ Java classes).
// See tests/fixtures/java/README.md for what they are and how to regenerate them.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RemotingCommand } from "../../src/codec/remoting_command.ts";
import { setField } from "../../src/codec/remoting_command.ts";
import type { SerializeType } from "../../src/codec/codes.ts";

/** Directory of the committed golden vectors. */
export const GOLDEN_DIR: string = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));

/** The Java versions the vectors were generated with: 5.5.0 (fastjson2) and 5.3.3 (fastjson 1.2.83). */
export const JAVA_VERSIONS = ["rocketmq-5.5.0", "rocketmq-5.3.3"] as const;
/** One of {@linkcode JAVA_VERSIONS}. */
export type JavaVersion = typeof JAVA_VERSIONS[number];

/** A vector's description as written by the generator; `bytes` is read from its `.hex` file. */
export interface Vector<D = Record<string, unknown>> {
  name: string;
  version: JavaVersion;
  description: D & { name: string; source: string; what: string };
  bytes: Uint8Array;
}

/** Bytes of a lower-case hex string (whitespace ignored). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error("bad hex");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Names of the vectors in `<version>/<area>`, sorted. */
export function vectorNames(version: JavaVersion, area: string): string[] {
  const dir = `${GOLDEN_DIR}${version}/${area}`;
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

/** Read one vector (its description and, when it has one, its bytes). */
export function loadVector<D = Record<string, unknown>>(
  version: JavaVersion,
  area: string,
  name: string,
): Vector<D> {
  const base = `${GOLDEN_DIR}${version}/${area}/${name}`;
  const description = JSON.parse(readFileSync(`${base}.json`, "utf8"));
  const bytes = existsSync(`${base}.hex`)
    ? fromHex(readFileSync(`${base}.hex`, "utf8"))
    : new Uint8Array(0);
  if (description.byteLength !== undefined && description.byteLength !== bytes.length) {
    throw new Error(
      `${base}.hex: ${bytes.length} bytes, description says ${description.byteLength}`,
    );
  }
  return { name, version, description, bytes };
}

/** Every vector of an area, across both Java versions. */
export function loadArea<D = Record<string, unknown>>(area: string): Vector<D>[] {
  return JAVA_VERSIONS.flatMap((v) => vectorNames(v, area).map((n) => loadVector<D>(v, area, n)));
}

/** A command as the generator describes it. */
export interface CommandDescription {
  code: number;
  language: number;
  version: number;
  opaque: number;
  flag: number;
  remark: string | null;
  /** [key, value] pairs in the order Java wrote them; null when Java wrote no extFields. */
  extFields: [string, string][] | null;
  /** JSON headers only: the top-level keys in the order Java wrote them. */
  jsonHeaderKeys?: string[];
  serializeType: SerializeType;
  /** Hex of the body. */
  body: string;
}

/** Description of a frame vector. */
export interface FrameDescription {
  command: CommandDescription;
}

/** Our command for a description: extFields in Java's order (our encoder keeps insertion order). */
export function toCommand(d: CommandDescription): RemotingCommand {
  const extFields: Record<string, string> = {};
  for (const [k, v] of d.extFields ?? []) setField(extFields, k, v);
  const command: RemotingCommand = {
    code: d.code,
    language: d.language,
    version: d.version,
    opaque: d.opaque,
    flag: d.flag,
    extFields,
    body: fromHex(d.body),
    serializeType: d.serializeType,
  };
  if (d.remark !== null) command.remark = d.remark;
  return command;
}
