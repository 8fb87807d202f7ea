// Validates every object of rendered manifests with kubernetes-models (types, required fields, enums,
// quantity formats) and KEDA's models. It does not reject unknown fields: KubernetesClient's strict
// loading does that on the .NET side. Usage: node validate.mjs <rendered.yaml>...
// Prints one JSON array: { file, index, apiVersion, kind, name, error } per object, error null when valid.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';

// apiVersion → the module holding its models (core "v1" has no group folder).
function moduleOf(apiVersion) {
  if (apiVersion === 'keda.sh/v1alpha1') {
    return '@kubernetes-models/keda/keda.sh/v1alpha1';
  }
  return `kubernetes-models/${apiVersion}`;
}

const modules = new Map();
async function modelOf(apiVersion, kind) {
  if (!modules.has(apiVersion)) {
    modules.set(apiVersion, import(moduleOf(apiVersion)).catch(() => null));
  }
  const module = await modules.get(apiVersion);
  return module?.[kind] ?? null;
}

const results = [];
for (const file of process.argv.slice(2)) {
  // YAML 1.1, as the API server's decoder reads it: an unquoted `on` or `yes` is a boolean there too.
  const documents = parseAllDocuments(await readFile(file, 'utf8'), { version: '1.1' });
  let index = 0;
  for (const document of documents) {
    if (document.errors.length > 0) {
      results.push({ file, index: index++, apiVersion: null, kind: null, name: null, error: `YAML: ${document.errors.map((e) => e.message).join('; ')}` });
      continue;
    }
    const object = document.toJS();
    if (object === null || object === undefined) {
      continue;
    }
    const { apiVersion = null, kind = null } = object;
    const name = object.metadata?.name ?? null;
    let error = null;
    const Model = apiVersion && kind ? await modelOf(apiVersion, kind) : null;
    if (Model === null) {
      error = `no kubernetes-models model for ${apiVersion} ${kind}`;
    } else {
      try {
        new Model(object).validate();
      } catch (e) {
        error = e.message;
      }
    }
    results.push({ file, index: index++, apiVersion, kind, name, error });
  }
}
process.stdout.write(JSON.stringify(results));
