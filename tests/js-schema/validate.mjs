// Validators run by the C++ tests (tests/tileserver/descriptions_test.cpp); install with
// `npm ci --prefix tests/js-schema`.
//   node validate.mjs tilejson SCHEMA FILE   JSON Schema validation (ajv, draft-07)
//   node validate.mjs style FILE             MapLibre style-spec validation (validateStyleMin)
// Prints one line per error and exits 1 when the document is invalid, 2 on misuse.
import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';

const [mode, ...files] = process.argv.slice(2);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

let errors;
if (mode === 'tilejson' && files.length === 2) {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  const validate = ajv.compile(readJson(files[0]));
  errors = validate(readJson(files[1])) ? [] : validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
} else if (mode === 'style' && files.length === 1) {
  errors = validateStyleMin(readJson(files[0])).map((e) => e.message);
} else {
  console.error('usage: validate.mjs tilejson SCHEMA FILE | validate.mjs style FILE');
  process.exit(2);
}
for (const error of errors) console.log(error);
process.exit(errors.length === 0 ? 0 : 1);
