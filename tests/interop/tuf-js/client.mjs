// Runs tuf-js (pinned in package.json) against a repository: init from a root, refresh,
// and download targets. Exit 0 on success, 1 on any failure (the message on stderr).
//
// usage: node client.mjs --root FILE --metadata-url URL --target-base-url URL
//                        --metadata-dir DIR --target-dir DIR [--target NAME ...]
//                        [--targets-file FILE]
//
// --targets-file names more targets, one per line (the benchmark downloads thousands).
//
// tuf-js fetches with Node's fetch: http(s) only, no file:// URLs.

import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Updater } from 'tuf-js';

function fail(message) {
  process.stderr.write(`tuf-js: ${message}\n`);
  process.exit(1);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        root: { type: 'string' },
        'metadata-url': { type: 'string' },
        'target-base-url': { type: 'string' },
        'metadata-dir': { type: 'string' },
        'target-dir': { type: 'string' },
        target: { type: 'string', multiple: true, default: [] },
        'targets-file': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(`bad arguments: ${error.message}`);
  }
  for (const name of ['root', 'metadata-url', 'target-base-url', 'metadata-dir', 'target-dir']) {
    if (values[name] === undefined) {
      fail(`--${name} is required`);
    }
  }

  // tuf-js boots from `root.json` in its metadata directory: that is the trusted root.
  mkdirSync(values['metadata-dir'], { recursive: true });
  mkdirSync(values['target-dir'], { recursive: true });
  copyFileSync(values.root, join(values['metadata-dir'], 'root.json'));

  const updater = new Updater({
    metadataDir: values['metadata-dir'],
    metadataBaseUrl: values['metadata-url'],
    targetDir: values['target-dir'],
    targetBaseUrl: values['target-base-url'],
    // A failure is a test result: no retries, no long waits.
    config: { fetchRetry: false, fetchTimeout: 30000 },
  });
  const targets = [...values.target];
  if (values['targets-file'] !== undefined) {
    for (const line of readFileSync(values['targets-file'], 'utf8').split('\n')) {
      if (line.trim() !== '') {
        targets.push(line.trim());
      }
    }
  }
  await updater.refresh();
  for (const name of targets) {
    const info = await updater.getTargetInfo(name);
    if (info === undefined) {
      fail(`target '${name}' not found`);
    }
    const path = (await updater.findCachedTarget(info)) ?? (await updater.downloadTarget(info));
    process.stdout.write(`tuf-js: ${name} -> ${path}\n`);
  }
  // The trusted set is private in tuf-js's types, but it is the only place the version lives.
  process.stdout.write(`tuf-js: root v${updater.trustedSet.root.signed.version}\n`);
}

main().catch((error) => {
  const name = error?.constructor?.name ?? 'Error';
  fail(`${name}: ${error?.message ?? String(error)}`);
});
