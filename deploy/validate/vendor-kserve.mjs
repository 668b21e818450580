#!/usr/bin/env node
// Copies the OpenAPI schemas of KServe's ServingRuntime and InferenceService CRDs out of a kserve
// checkout into schemas/kserve/, which validate.mjs reads: no npm package provides them, and CI has
// no network beyond the package registries. Descriptions are dropped (most of the bytes); the rest of
// each served version's openAPIV3Schema is kept as it is.
//
//   node deploy/validate/vendor-kserve.mjs <kserve checkout> <its commit>
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const [checkout, commit] = process.argv.slice(2);
if (!checkout || !commit) {
    console.error("usage: vendor-kserve.mjs <kserve checkout> <commit>");
    process.exit(2);
}

const crds = ["serving.kserve.io_servingruntimes.yaml", "serving.kserve.io_inferenceservices.yaml"];
const out = join(dirname(fileURLToPath(import.meta.url)), "schemas", "kserve");
mkdirSync(out, { recursive: true });

const withoutDescriptions = (node) =>
    Array.isArray(node) ? node.map(withoutDescriptions)
        : node && typeof node === "object"
            ? Object.fromEntries(Object.entries(node).filter(([k]) => k !== "description").map(([k, v]) => [k, withoutDescriptions(v)]))
            : node;

for (const file of crds) {
    const path = join("config", "crd", "full", file);
    const crd = parse(readFileSync(join(checkout, path), "utf8"));
    for (const version of crd.spec.versions.filter((v) => v.served)) {
        const name = `${crd.spec.group}_${version.name}_${crd.spec.names.kind}.json`;
        const document = {
            source: `kserve/kserve ${path} at ${commit}, spec.versions[${version.name}].schema.openAPIV3Schema, descriptions dropped`,
            group: crd.spec.group,
            version: version.name,
            kind: crd.spec.names.kind,
            schema: withoutDescriptions(version.schema.openAPIV3Schema),
        };
        writeFileSync(join(out, name), JSON.stringify(document) + "\n");
        console.log(`${name}: ${JSON.stringify(document).length} bytes`);
    }
}
