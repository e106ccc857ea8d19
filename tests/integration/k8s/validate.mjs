// Validates the kustomize base in deploy/k8s offline against the Kubernetes
// OpenAPI schemas that the npm package kubernetes-models ships (pinned in
// package-lock.json; scripts/install-deps installs it), and checks that the
// pieces fit together: every file is a resource of the kustomization, the
// selectors find their pods, the probes ask the service's own endpoints, the
// references name objects that exist. First it checks that a broken
// Deployment is refused, so that a validator that accepts everything fails.
//
// Usage: node validate.mjs DIR      (exit 0 valid, 1 not, with the reasons)
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse } from "yaml";

const dir = process.argv[2];
const problems = [];
const fail = (msg) => problems.push(msg);

async function modelOf(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const path = `kubernetes-models/${group ? group + "/" : ""}${version}/${obj.kind}`;
  const mod = await import(path);
  return mod[obj.kind];
}

async function validate(obj, where) {
  let Model;
  try {
    Model = await modelOf(obj);
  } catch (e) {
    fail(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
    return false;
  }
  try {
    new Model(obj).validate();
    return true;
  } catch (e) {
    fail(`${where}: ${obj.kind} ${obj.metadata?.name}: ${e.message}`);
    return false;
  }
}

// the validator must refuse a broken manifest
const broken = {
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "broken" },
  spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } },
    spec: { containers: [{ name: "c", image: "i", ports: [{ containerPort: "8080" }] }] } } },
};
if (await validate(broken, "self-test")) {
  console.error("not ok - the schema check accepted a containerPort given as a string");
  process.exit(1);
}
problems.length = 0;

const kustomization = parse(readFileSync(join(dir, "kustomization.yaml"), "utf8"));
const resources = kustomization.resources ?? [];
for (const f of readdirSync(dir).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml"))
  if (!resources.includes(f)) fail(`${f} is not a resource of kustomization.yaml`);

const objects = [];
for (const f of resources) {
  for (const doc of parseAllDocuments(readFileSync(join(dir, f), "utf8"))) {
    if (doc.errors.length) { fail(`${f}: ${doc.errors[0].message}`); continue; }
    const obj = doc.toJS();
    if (!obj) continue;
    objects.push({ f, obj });
    await validate(obj, f);
  }
}

const byKind = (k) => objects.filter((o) => o.obj.kind === k).map((o) => o.obj);
const matches = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const names = (k) => new Set(byKind(k).map((o) => o.metadata.name));
const podSpecs = [...byKind("Deployment"), ...byKind("Job")].map((o) => ({ o, spec: o.spec.template.spec,
  labels: o.spec.template.metadata?.labels }));

for (const d of byKind("Deployment"))
  if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata?.labels))
    fail(`Deployment ${d.metadata.name}: its selector does not match its pods`);
for (const { o, spec } of podSpecs) {
  if (!spec.securityContext?.runAsNonRoot) fail(`${o.kind} ${o.metadata.name}: not runAsNonRoot`);
  for (const c of spec.containers) {
    if (!c.resources?.requests || !c.resources?.limits) fail(`${o.metadata.name}/${c.name}: no resources`);
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef && !names("ConfigMap").has(e.configMapRef.name))
        fail(`${o.metadata.name}: ConfigMap ${e.configMapRef.name} is not in the base`);
      if (e.secretRef && !names("Secret").has(e.secretRef.name))
        fail(`${o.metadata.name}: Secret ${e.secretRef.name} is not in the base`);
    }
  }
}
const serve = byKind("Deployment").find((d) => d.spec.template.spec.containers[0].args?.[0] === "serve");
if (!serve) fail("no Deployment runs frontline serve");
else {
  const c = serve.spec.template.spec.containers[0];
  if (serve.spec.replicas !== 2) fail("serve: replicas is not 2");
  if (c.readinessProbe?.httpGet?.path !== "/readyz") fail("serve: readiness is not /readyz");
  if (c.livenessProbe?.httpGet?.path !== "/healthz") fail("serve: liveness is not /healthz");
  const labels = serve.spec.template.metadata.labels;
  for (const s of byKind("Service"))
    if (!matches(s.spec.selector, labels)) fail(`Service ${s.metadata.name} does not select the serve pods`);
  const pdbs = byKind("PodDisruptionBudget");
  if (!pdbs.some((p) => matches(p.spec.selector.matchLabels, labels))) fail("no PodDisruptionBudget covers serve");
  if (!byKind("Service").length) fail("no Service");
}
if (!byKind("Deployment").some((d) => d.spec.template.spec.containers[0].args?.[0] === "worker"))
  fail("no Deployment runs frontline worker");
if (!byKind("Job").some((j) => j.spec.template.spec.containers[0].args?.[0] === "migrate"))
  fail("no Job runs frontline migrate");

if (problems.length) {
  for (const p of problems) console.error("not ok - " + p);
  process.exit(1);
}
console.log(`ok - ${objects.length} objects in ${resources.length} files valid against the Kubernetes schemas`);
