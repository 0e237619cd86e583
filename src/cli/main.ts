// Builds the `geul` command tree: task commands come from the task registry, the rest from command modules.
import { Command, CommanderError } from 'commander';
import { addGlobalOptions, reportError } from './context.js';
import { COMMAND_MODULES } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('geul')
    .description('geul (글): local-first NLP — pretrained Hugging Face models, word vectors, training and an HTTP API')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  addGlobalOptions(program);
  for (const register of COMMAND_MODULES) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    process.exitCode = reportError(err);
  }
}
