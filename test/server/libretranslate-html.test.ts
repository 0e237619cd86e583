// format "html": only text nodes are translated; tags, attributes, comments, script and style come back unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { decodeEntities, splitHtml } from '../../src/server/html-text.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

const PAGE = '<!-- note: Hello --><p class="a>b" title=\'Hello world\'>Hello <b>world</b> &amp; friends</p><script>var s = "<p>Hello</p>";</script><style>p{color:red}</style> 42 ';

test('the tokenizer separates markup from text; quoted ">" in attributes, comments and raw-text elements are markup', () => {
  const pieces = splitHtml(PAGE);
  assert.deepEqual(pieces.filter((p) => p.kind === 'text').map((p) => p.value), ['Hello ', 'world', ' & friends', ' 42 ']);
  const markup = pieces.filter((p) => p.kind === 'markup').map((p) => p.value);
  assert.deepEqual(markup, ['<!-- note: Hello -->', '<p class="a>b" title=\'Hello world\'>', '<b>', '</b>', '</p>', '<script>var s = "<p>Hello</p>";</script>', '<style>p{color:red}</style>']);
  assert.deepEqual(splitHtml('a < b and 1<2'), [{ kind: 'text', value: 'a < b and 1<2' }]);
  assert.equal(decodeEntities('&lt;&#65;&#x42;&nbsp;&unknown;'), '<AB\u00a0&unknown;');
});

describe('POST /translate with format "html" (tiny M2M100)', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await buildServer(serverConfig({ modelsDir: await fixturesDir(), defaults: { translate: 'tiny-m2m100' } }));
  });
  after(() => app.close());

  test('the markup comes back byte for byte around translated text nodes', async () => {
    const res = await post(app, '/translate', { q: PAGE, source: 'en', target: 'fr', format: 'html' });
    assert.equal(res.status, 200, res.body);
    const out = res.json().translatedText as string;
    const markupOf = (html: string) => splitHtml(html).filter((p) => p.kind === 'markup').map((p) => p.value);
    assert.deepEqual(markupOf(out), markupOf(PAGE));
    assert.ok(out.startsWith('<!-- note: Hello --><p class="a>b" title=\'Hello world\'>'));
    assert.ok(out.endsWith('<script>var s = "<p>Hello</p>";</script><style>p{color:red}</style> 42 '), out);
    // A translated text never breaks the markup: what the model writes is escaped.
    for (const piece of splitHtml(out)) if (piece.kind === 'text') assert.ok(!piece.value.includes('<'), piece.value);
  });

  test('source "auto" detects from the text nodes, not the markup', async () => {
    const res = await post(app, '/translate', { q: ['<p lang="en" class="header">Où est la gare ? Je dois prendre le train pour Lyon.</p>'], source: 'auto', target: 'en', format: 'html' });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as { translatedText: string[]; detectedLanguage: { language: string }[] };
    assert.equal(body.detectedLanguage[0].language, 'fr');
    assert.match(body.translatedText[0], /^<p lang="en" class="header">[\s\S]*<\/p>$/);
  });
});
