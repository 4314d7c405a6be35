// `npm run contract`: regenerates contract/ from the code's schemas. Commit the result.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildContractFiles } from './build-contract';

const root = join(import.meta.dirname, '..', '..', 'contract');
for (const [path, text] of Object.entries(buildContractFiles())) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`wrote contract/${path}\n`);
}
