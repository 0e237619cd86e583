// The model catalog's public names: folder names for --models folders, last segments for paths, hub ids as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelCatalog } from '../../src/server/models.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';

test('public names: --models folders by name, paths by their last segment, hub ids unchanged', async () => {
  const T = await fixturesDir();
  const catalog = new ModelCatalog(serverConfig({ modelsDir: T }));
  assert.equal(catalog.publicName(join(T, 'tiny-bert-embed')), 'tiny-bert-embed');
  assert.equal(catalog.publicName('/srv/models/my-bert'), 'my-bert');
  assert.equal(catalog.publicName('Xenova/all-MiniLM-L6-v2'), 'Xenova/all-MiniLM-L6-v2');
});

test('public names are worked out once per reference (no file-system look-up per request), and the memo is bounded', () => {
  const catalog = new ModelCatalog(serverConfig());
  const cwd = process.cwd();
  const scratch = mkdtempSync(join(tmpdir(), 'geul-names-'));
  process.chdir(scratch);
  try {
    assert.equal(catalog.publicName('org/bert'), 'org/bert', 'a hub id while no such folder exists');
    // A folder of that name appearing later would make parseModelRef read it as a local path; the memo answers.
    mkdirSync(join(scratch, 'org', 'bert'), { recursive: true });
    assert.equal(catalog.publicName('org/bert'), 'org/bert');
    for (let i = 0; i < 3000; i++) assert.equal(catalog.publicName(`org/model-${i}`), `org/model-${i}`);
    const remembered = (catalog as unknown as { refNames: Map<string, string> }).refNames.size;
    assert.ok(remembered <= 1024, `${remembered} names remembered`);
  } finally {
    process.chdir(cwd);
    rmSync(scratch, { recursive: true, force: true });
  }
});
