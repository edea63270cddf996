// After `vite build`: the JavaScript a browser downloads to show the login page and then the
// dashboard (the entry, both route modules and every chunk they import statically), gzipped,
// must stay under the budget. Prints every chunk's gzip size, what a first load of each route
// fetches (/login, /), and the two together. Reads dist/.vite/manifest.json.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 250 * 1024;
const ENTRY = 'index.html';
const ROUTES = { '/login': 'src/features/auth/routes/login.tsx', '/': 'src/features/dashboard/routes/dashboard.tsx' };
const FIRST_LOAD = [ENTRY, ...Object.values(ROUTES)];

const dist = new URL('../dist/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('.vite/manifest.json', dist), 'utf8'));
const gzipped = (file) => gzipSync(readFileSync(new URL(file, dist)), { level: 9 }).length;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** The JS files the manifest keys load: themselves and every chunk they import statically. */
const closure = (keys) => {
  const found = new Set();
  const visit = (key) => {
    const chunk = manifest[key];
    if (!chunk) throw new Error(`bundle-budget: ${key} is not in the build manifest`);
    if (found.has(chunk.file)) return;
    found.add(chunk.file);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  keys.forEach(visit);
  return found;
};
const files = closure(FIRST_LOAD);

const rows = Object.values(manifest)
  .filter((chunk) => chunk.file.endsWith('.js'))
  .map((chunk) => ({ file: chunk.file, bytes: gzipped(chunk.file), first: files.has(chunk.file) }))
  .sort((a, b) => b.bytes - a.bytes);
for (const row of rows) console.log(`${row.first ? '*' : ' '} ${kb(row.bytes).padStart(9)}  ${row.file}`);
const sum = (set) => rows.filter((row) => set.has(row.file)).reduce((total, row) => total + row.bytes, 0);
for (const [route, module] of Object.entries(ROUTES)) {
  const routeFiles = closure([ENTRY, module]);
  console.log(`first load of ${route}: ${kb(sum(routeFiles))} gzip JS in ${routeFiles.size} files`);
}
const total = sum(files);
console.log(`first load (login + dashboard, marked *): ${kb(total)} gzip JS; budget ${kb(BUDGET_BYTES)}`);
if (total > BUDGET_BYTES) {
  console.error('bundle-budget: over budget: split a chunk or drop a dependency');
  process.exit(1);
}
