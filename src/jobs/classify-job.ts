// The batch `classify` job: every text of a file → classifications.jsonl ({"index", "id"?, "labels"} per row, in
// input order), with the classify task's own code and options (top_k, long_text), resumable after a crash.
import { classifyTask } from '../tasks/classify.js';
import { defineTaskFileJob } from './task-file-job.js';

export const CLASSIFY_OUTPUT = 'classifications.jsonl';

export const classifyJob = defineTaskFileJob({
  id: 'classify',
  description: 'Classify every text of a file into classifications.jsonl ({"index", "id"?, "labels": [{label, score}]} per row, in input order)',
  task: classifyTask,
  output: CLASSIFY_OUTPUT,
  line: (labels) => ({ labels }),
});
