// The contract's JSON Schemas, loaded from contracts/whatsapp/schemas (the same files the Python
// side validates against). In a container the image must copy contracts/whatsapp next to
// baileys/ (or set WA_CONTRACTS_DIR).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTRACTS_DIR = process.env.WA_CONTRACTS_DIR
  || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../contracts/whatsapp');

export function loadSchemas(dir = path.join(CONTRACTS_DIR, 'schemas')) {
  const out = {};
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    out[name.replace(/\.json$/, '')] = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  }
  return out;
}

export function ref(schemas, name) { return { $ref: schemas[name].$id }; }
