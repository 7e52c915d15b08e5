// fauxqs is ESM-only: its package exports only an "import" condition, so CommonJS code cannot
// require() it by name. This ES module re-exports it; Node >= 20.19 can require() an ES module.
export { buildApp } from 'fauxqs';
