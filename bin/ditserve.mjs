#!/usr/bin/env node
// Launcher for `npx ditserve …` and the package's bin: runs the TypeScript CLI without a build
// step (tsx compiles it on the fly). The GPU machine runs the esbuild bundle instead
// (npm run bundle:gpu → dist/gpu/ditserve.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./ditserve.ts');
