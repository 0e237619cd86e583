// The list of CLI command modules; each adds its commands to the program (explicit, no side-effect imports).
import type { Command } from 'commander';
import { register as registerTasks } from './tasks.js';
import { register as registerModels } from './models.js';
import { register as registerServe } from './serve.js';
import { register as registerKeys } from './keys.js';
import { register as registerWords } from './words.js';
import { register as registerTrain } from './train.js';
import { register as registerEval } from './eval.js';
import { register as registerFinetune } from './finetune.js';
import { register as registerPretrain } from './pretrain.js';
import { register as registerExport } from './export.js';
import { register as registerJobs } from './jobs.js';
import { register as registerWorker } from './worker.js';

export type RegisterCommands = (program: Command) => void;

export const COMMAND_MODULES: RegisterCommands[] = [registerTasks, registerModels, registerServe, registerKeys, registerWords, registerTrain, registerFinetune, registerPretrain, registerExport, registerEval, registerJobs, registerWorker];
