/** Entry point of the bundled CLI (dist/cli.js). */
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
