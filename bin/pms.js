#!/usr/bin/env node
// Entry point for the `pms` CLI. Node 24 runs the TypeScript sources itself, stripping their types:
// the code keeps to erasable syntax (tsconfig's erasableSyntaxOnly), so no loader is needed. A
// loader (tsx) also works, but its hooks left more objects for the API's young-generation
// collections to copy in every process we measured (docs/PERFORMANCE.md).
await import('../src/app/cli.ts');
