// Jest's own order (slowest or largest first), except that files opting out of the one-at-a-time environment
// (docblock `@jest-environment node`, see jest-one-at-a-time.cjs) go first: started at once, their waiting
// overlaps the rest of the suite instead of following it.
const fs = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;
const { extract, parse } = require('jest-docblock');
const { clear } = require('./jest-one-at-a-time.cjs');

function runsBesideOthers(test) {
  return parse(extract(fs.readFileSync(test.path, 'utf8')))['jest-environment'] === 'node';
}

class BesideOthersFirst extends Sequencer {
  async sort(tests) {
    // In jest's main process, before any worker starts.
    clear();
    const sorted = await super.sort(tests);
    return [...sorted.filter(runsBesideOthers), ...sorted.filter((t) => !runsBesideOthers(t))];
  }
}

module.exports = BesideOthersFirst;
