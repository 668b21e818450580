#!/usr/bin/env node
// Validates rendered manifests offline, object by object (deploy/validate/check.sh runs it):
//   node validate.mjs FILE...            every object of every multi-document YAML file must pass
//   node validate.mjs --broken DIR       every file in DIR must be rejected for the one fault its
//                                        first line names (# expect: <part of the message>)
// 1. The schema: Kubernetes' own kinds and ServiceMonitor with the npm package kubernetes-models
//    (and @kubernetes-models/prometheus-operator); KServe's with its CRDs' OpenAPI schemas
//    (schemas/kserve, vendor-kserve.mjs) through Ajv. A kind with no schema is an error.
// 2. Unknown fields: kubernetes-models checks types and required fields but lets a misspelled field
//    through, as the API server would prune it silently. Each object is validated through a proxy
//    that records which fields the schema's validator looks up; a field of an object whose schema
//    names its fields (the validator read some, and did not enumerate the keys as it does for maps)
//    that was never looked up is unknown. KServe's schemas get additionalProperties: false wherever
//    they name properties and do not preserve unknown fields.
// 3. The server's own rules, which no schema knows: the grace period covers the drain, the HPA's
//    metrics are ones the Prometheus adapter's rules define, and a read-only root has its /tmp.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse } from "yaml";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

// ---- 1 and 2: schemas and unknown fields -------------------------------------------------------

const modelPackages = ["kubernetes-models", "@kubernetes-models/prometheus-operator"];
const modelCache = new Map();

async function kubernetesModel(apiVersion, kind) {
    const key = `${apiVersion}/${kind}`;
    if (!modelCache.has(key)) {
        let found = null;
        for (const pkg of modelPackages) {
            // Each package exports a module per group and version (ESM only): kubernetes-models/apps/v1.
            let module;
            try {
                module = await import(`${pkg}/${apiVersion}`);
            } catch (e) {
                if (e.code === "ERR_PACKAGE_PATH_NOT_EXPORTED" || e.code === "ERR_MODULE_NOT_FOUND") {
                    continue;
                }
                throw e;
            }
            if (typeof module[kind]?.prototype?.validate === "function") {
                found = module[kind];
                break;
            }
        }
        modelCache.set(key, found);
    }
    return modelCache.get(key);
}

/** Wraps value so that every object inside it records the fields read and whether its keys were listed. */
function recorded(value, path, records) {
    if (value === null || typeof value !== "object") {
        return value;
    }
    const record = { value, path, read: new Set(), listed: false };
    records.push(record);
    const children = new Map();
    return new Proxy(value, {
        get(target, prop, receiver) {
            const v = Reflect.get(target, prop, receiver);
            if (typeof prop !== "string") {
                return v;
            }
            record.read.add(prop);
            if (v === null || typeof v !== "object") {
                return v;
            }
            if (!children.has(prop)) {
                children.set(prop, recorded(v, `${path}/${prop}`, records));
            }
            return children.get(prop);
        },
        has(target, prop) {
            if (typeof prop === "string") {
                record.read.add(prop);
            }
            return Reflect.has(target, prop);
        },
        ownKeys(target) {
            record.listed = true;
            return Reflect.ownKeys(target);
        },
    });
}

function unknownFields(records) {
    const problems = [];
    for (const r of records) {
        if (Array.isArray(r.value) || r.listed || r.read.size === 0) {
            continue;
        }
        for (const key of Object.keys(r.value)) {
            if (!r.read.has(key)) {
                problems.push(`${r.path || "/"}: unknown field "${key}"`);
            }
        }
    }
    return problems;
}

async function validateKubernetes(doc) {
    const Model = await kubernetesModel(doc.apiVersion, doc.kind);
    if (!Model) {
        return null;
    }
    const records = [];
    try {
        Model.prototype.validate.call(recorded(doc, "", records));
    } catch (e) {
        return [`schema: ${e.message}`];
    }
    return unknownFields(records);
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const crdValidators = new Map();

/** Unknown fields refused wherever the schema names its properties and keeps no unknown fields. */
function closed(schema) {
    if (Array.isArray(schema)) {
        return schema.map(closed);
    }
    if (!schema || typeof schema !== "object") {
        return schema;
    }
    const copy = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === "properties" ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, closed(s)])) : closed(v)]));
    if (copy.properties && copy.additionalProperties === undefined && copy["x-kubernetes-preserve-unknown-fields"] !== true) {
        copy.additionalProperties = false;
    }
    return copy;
}

function crdValidator(apiVersion, kind) {
    const key = `${apiVersion}/${kind}`;
    if (!crdValidators.has(key)) {
        const [group, version] = apiVersion.split("/");
        const file = join(here, "schemas", "kserve", `${group}_${version}_${kind}.json`);
        crdValidators.set(key, existsSync(file) ? ajv.compile(closed(JSON.parse(readFileSync(file, "utf8")).schema)) : null);
    }
    return crdValidators.get(key);
}

async function validateCustomResource(doc) {
    const validate = crdValidator(doc.apiVersion, doc.kind);
    if (!validate) {
        return null;
    }
    const problems = [];
    if (!validate(doc)) {
        for (const e of validate.errors) {
            problems.push(e.keyword === "additionalProperties"
                ? `${e.instancePath || "/"}: unknown field "${e.params.additionalProperty}"`
                : `schema: data${e.instancePath} ${e.message}`);
        }
    }
    // A CRD's schema leaves metadata open; the API server checks it as any object's.
    const { validate: objectMeta } = await import("@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta");
    const records = [];
    if (!objectMeta(recorded(doc.metadata ?? {}, "/metadata", records))) {
        problems.push(...objectMeta.errors.map((e) => `schema: data/metadata${e.instancePath} ${e.message}`));
    }
    problems.push(...unknownFields(records));
    return problems;
}

// ---- 3: the server's own rules ------------------------------------------------------------------

const adapterMetrics = new Set(
    parse(readFileSync(join(root, "deploy", "monitoring", "prometheus-adapter-values.yaml"), "utf8"))
        .rules.custom.map((rule) => rule.name.as));

const envValue = (container, name) => container.env?.find((e) => e.name === name)?.value;

function preStopSeconds(container) {
    const stop = container.lifecycle?.preStop;
    if (stop?.sleep) {
        return Number(stop.sleep.seconds);
    }
    const command = stop?.exec?.command ?? [];
    return /(^|\/)sleep$/.test(command[0] ?? "") ? Number(command[1]) : 0;
}

/** The grace period must cover preStop + DrainDelaySeconds + DrainTimeoutSeconds + 5 s to release the models and exit. */
function graceProblems(where, grace, container, drainFrom = container) {
    const delay = Number(envValue(drainFrom, "LowLatency__DrainDelaySeconds") ?? 0);
    const timeout = Number(envValue(drainFrom, "LowLatency__DrainTimeoutSeconds") ?? 30);
    const needed = preStopSeconds(container) + delay + timeout + 5;
    const granted = grace ?? 30;
    return granted >= needed ? [] : [`${where}: terminationGracePeriodSeconds ${granted} does not cover the drain: preStop ${preStopSeconds(container)} + DrainDelaySeconds ${delay} + DrainTimeoutSeconds ${timeout} + 5 s = ${needed}`];
}

function tmpProblems(where, container, volumeMounts = container.volumeMounts) {
    const readOnly = container.securityContext?.readOnlyRootFilesystem === true;
    const hasTmp = (volumeMounts ?? []).some((m) => m.mountPath === "/tmp");
    return readOnly && !hasTmp ? [`${where}: read-only root file system without a volume on /tmp, where the server writes its patched libLibTorchSharp.so (LOWLATENCY_NATIVE_CACHE)`] : [];
}

function serverRules(doc, all) {
    const problems = [];
    if (doc.kind === "Deployment") {
        const pod = doc.spec?.template?.spec ?? {};
        for (const c of pod.containers ?? []) {
            const where = `container ${c.name}`;
            problems.push(...graceProblems(where, pod.terminationGracePeriodSeconds, c), ...tmpProblems(where, c));
            if (c.readinessProbe?.httpGet?.path !== "/v2/health/ready") {
                problems.push(`${where}: readinessProbe must GET /v2/health/ready (false while loading and from SIGTERM on)`);
            }
        }
    }
    if (doc.kind === "HorizontalPodAutoscaler") {
        for (const m of doc.spec?.metrics ?? []) {
            const name = m.pods?.metric?.name ?? m.object?.metric?.name;
            if (name && !adapterMetrics.has(name)) {
                problems.push(`metric ${name} is not one the Prometheus adapter's rules define (deploy/monitoring/prometheus-adapter-values.yaml: ${[...adapterMetrics].join(", ")})`);
            }
        }
    }
    if (doc.kind === "ServingRuntime") {
        for (const c of doc.spec?.containers ?? []) {
            problems.push(...tmpProblems(`container ${c.name}`, c));
        }
    }
    if (doc.kind === "InferenceService") {
        const predictor = doc.spec?.predictor ?? {};
        const runtime = all.find((d) => d.kind === "ServingRuntime" && d.metadata?.name === predictor.model?.runtime);
        const server = runtime?.spec?.containers?.find((c) => c.name === "kserve-container");
        if (predictor.model && server) {
            problems.push(...graceProblems("predictor", predictor.terminationGracePeriodSeconds, predictor.model, server));
        }
    }
    return problems;
}

// ---- driver --------------------------------------------------------------------------------------

async function problemsOf(doc, all) {
    if (!doc || typeof doc !== "object" || !doc.apiVersion || !doc.kind) {
        return ["not a Kubernetes object (no apiVersion or kind)"];
    }
    const schema = (await validateKubernetes(doc)) ?? (await validateCustomResource(doc));
    if (schema === null) {
        return [`no schema for ${doc.apiVersion} ${doc.kind}: add its package or vendor its CRD`];
    }
    return [...schema, ...serverRules(doc, all)];
}

async function validateFile(file) {
    const docs = parseAllDocuments(readFileSync(file, "utf8"));
    const parsed = [];
    const problems = [];
    for (const d of docs) {
        if (d.errors.length > 0) {
            problems.push(`${file}: YAML: ${d.errors[0].message}`);
            continue;
        }
        const value = d.toJS();
        if (value !== null) {
            parsed.push(value);
        }
    }
    for (const doc of parsed) {
        const name = `${doc?.kind ?? "?"}/${doc?.metadata?.name ?? "?"}`;
        for (const p of await problemsOf(doc, parsed)) {
            problems.push(`${file}: ${name}: ${p}`);
        }
    }
    return { count: parsed.length, problems };
}

async function main(args) {
    if (args[0] === "--broken") {
        const dir = args[1];
        let failures = 0;
        const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
        for (const f of files) {
            const file = join(dir, f);
            const expect = /^# expect: (.+)$/m.exec(readFileSync(file, "utf8"))?.[1]?.trim();
            // One fault per file, so that each proves its own check.
            const { problems } = await validateFile(file);
            const matched = expect && problems.length === 1 && problems[0].includes(expect);
            console.log(`validate: ${matched ? "rejected, as it must be" : "NOT REJECTED AS EXPECTED"}: ${problems[0] ?? `${file}: no problem found`}`);
            if (!matched) {
                failures++;
                if (!expect) {
                    console.log(`validate:   ${file} has no "# expect: ..." line`);
                }
                problems.forEach((p) => console.log(`validate:   ${p}`));
            }
        }
        console.log(`validate: ${files.length - failures} of ${files.length} broken manifests rejected`);
        return failures === 0 && files.length > 0 ? 0 : 1;
    }
    let objects = 0;
    let failed = 0;
    for (const file of args) {
        const { count, problems } = await validateFile(file);
        objects += count;
        failed += problems.length;
        problems.forEach((p) => console.log(`validate: ${p}`));
        console.log(`validate: ${file}: ${count} objects, ${problems.length ? `${problems.length} problems` : "valid"}`);
    }
    console.log(`validate: ${objects} objects in ${args.length} files, ${failed} problems`);
    return failed === 0 && objects > 0 ? 0 : 1;
}

process.exit(await main(process.argv.slice(2)));
