// Asset hashes change with every handler edit or dependency bump; the snapshot is about infrastructure.
const ASSET_HASH = /[0-9a-f]{64}/g;
module.exports = {
  test: (val) => typeof val === 'string' && /[0-9a-f]{64}/.test(val),
  serialize: (val, config, indentation, depth, refs, printer) =>
    printer(val.replace(ASSET_HASH, '[ASSET_HASH]'), config, indentation, depth, refs),
};
