// `npm run contract`: regenerates contract/ from the code's schemas. Commit the result.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildApiTypes, buildContractFiles } from './build-contract';

const root = join(import.meta.dirname, '..', '..', 'contract');
const files = buildContractFiles();
files['openapi.d.ts'] = await buildApiTypes(files['openapi.json'] ?? '');
for (const [path, text] of Object.entries(files)) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`wrote contract/${path}\n`);
}
