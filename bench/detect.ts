// Language identification accuracy (top-1) of the built-in detector on FLORES-200 devtest, per language.
import { readFileSync } from 'node:fs';
import { detectLanguages } from '../src/tasks/detect.js';
import { machine, sharedData, writeReadmeSection } from './common.js';

const LANGUAGES: [string, string][] = [['eng_Latn', 'en'], ['fra_Latn', 'fr'], ['deu_Latn', 'de'], ['spa_Latn', 'es'], ['kor_Hang', 'ko'], ['jpn_Jpan', 'ja'], ['zho_Hans', 'zh']];

const rows: string[] = [];
let correct = 0;
let total = 0;
for (const [stem, code] of LANGUAGES) {
  const path = sharedData('flores200-devtest', `${stem}.devtest`);
  if (!path) throw new Error(`missing ../shared/data/flores200-devtest/${stem}.devtest`);
  const sentences = readFileSync(path, 'utf8').split('\n').filter((s) => s.trim() !== '');
  let ok = 0;
  const confusions = new Map<string, number>();
  for (const sentence of sentences) {
    const best = (await detectLanguages(sentence, 1))[0]?.language ?? '(none)';
    if (best === code) ok++;
    else confusions.set(best, (confusions.get(best) ?? 0) + 1);
  }
  correct += ok;
  total += sentences.length;
  const wrong = [...confusions].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ') || '—';
  rows.push(`| ${stem} | ${code} | ${sentences.length} | ${(100 * ok / sentences.length).toFixed(1)} | ${wrong} |`);
  console.log(rows[rows.length - 1]);
}
const body = [
  'Top-1 accuracy of `geul detect` (eld 2.1.0, large n-gram table, all 60 languages allowed) on every FLORES-200 devtest',
  'sentence of each language. Goal (issue 11): ≥ 90 % per language. Reproduce: `npm run bench:detect` (needs ../shared/data).',
  '',
  `Results (${new Date().toISOString().slice(0, 10)}, ${machine()}):`,
  '',
  '| FLORES file | code | sentences | top-1 % | detected instead |',
  '|---|---|---|---|---|',
  ...rows,
  `| all | | ${total} | ${(100 * correct / total).toFixed(1)} | |`,
].join('\n');
writeReadmeSection('Language detection', body);
