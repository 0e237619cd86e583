// Process entry for the CLI: `bin/geul` loads the compiled copy of this file.
import { main } from './main.js';

// `geul … | head` closes stdout early: stop quietly, as Unix tools do, instead of dying with an EPIPE stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

await main(process.argv);
