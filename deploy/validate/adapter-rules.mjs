#!/usr/bin/env node
// Writes the Prometheus adapter's queries (deploy/monitoring/prometheus-adapter-values.yaml) as a
// Prometheus rule file, for `promtool check rules` to parse their PromQL offline: a query that does
// not parse would leave the autoscaler without its metric and nothing else would say so. The
// adapter's templates are filled in as it fills them for a pod metric.
//   node adapter-rules.mjs OUT.yaml
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const values = parse(readFileSync(join(root, "deploy", "monitoring", "prometheus-adapter-values.yaml"), "utf8"));
const fill = (query) => query
    .replaceAll("<<.GroupBy>>", "namespace, pod")
    .replaceAll("<<.LabelMatchers>>", 'namespace="lowlatency", pod=~"lowlatency-.*"')
    .replaceAll("<<.Series>>", "series");
const rules = values.rules.custom.flatMap((rule) => [
    { record: `adapter:series:${rule.name.as}`, expr: fill(rule.seriesQuery) },
    { record: `adapter:${rule.name.as}`, expr: fill(rule.metricsQuery) },
]);
writeFileSync(process.argv[2], stringify({ groups: [{ name: "prometheus-adapter", rules }] }));
console.log(`adapter-rules: ${rules.length} queries of ${values.rules.custom.length} rules`);
