#!/usr/bin/env node
// The `herald` CLI. tsx's loader runs the TypeScript sources directly (CommonJS and `import()`
// alike), so `npx herald` needs no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await import('tsx');
const cli = await import('./herald.ts');
const main = cli.main ?? cli.default?.main;
await main(process.argv);
