// Placeholder CLI so `npx sfsync --help` works while the commands are built.
import { Command } from 'commander';

const program = new Command('sfsync').description('Keep a PostgreSQL warehouse in step with a Salesforce org.');
program.parse();
