// Process entry for the CLI: `bin/geul` loads the compiled copy of this file.
import { main } from './main.js';

await main(process.argv);
