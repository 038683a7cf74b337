#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so a fresh `npm install` needs no build step and the
// binary can never run stale compiled output.
import { register } from 'tsx/esm/api';

register();
await import('../pipelines/cli.ts');
