// The batch `translate` job: every text (or line) of a file → translations.jsonl ({"index", "id"?, "translation",
// "alternatives"?} per row, in input order), with the translate task's own code and options, resumable after a crash.
import { translateTask, type TranslationResult } from '../tasks/translate.js';
import { defineTaskFileJob } from './task-file-job.js';

export const TRANSLATE_OUTPUT = 'translations.jsonl';

export const translateJob = defineTaskFileJob({
  id: 'translate',
  description: 'Translate every text (or line) of a file into translations.jsonl ({"index", "id"?, "translation", "alternatives"?} per row, in input order)',
  task: translateTask,
  output: TRANSLATE_OUTPUT,
  line: (result) => {
    const { text, alternatives } = result as TranslationResult;
    return { translation: text, ...(alternatives !== undefined && { alternatives }) };
  },
});
