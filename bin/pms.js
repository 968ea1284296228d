#!/usr/bin/env node
// Entry point for the `pms` CLI: runs the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/app/cli.ts');
