#!/usr/bin/env node
// The `rocketmq-rpc` executable (npm `bin`, `deno task cli`): runs the
// command line in src/cli/main.ts whatever the runtime.
import process from "node:process";
import { exitWith } from "./_io.ts";
import { main } from "./main.ts";

main(process.argv.slice(2)).then(exitWith);
