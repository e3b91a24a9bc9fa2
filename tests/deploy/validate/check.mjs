// Renders every Kustomize overlay of deploy/k8s (kubectl kustomize) and the Helm chart
// deploy/helm/inferd (helm_render.mjs: Helm itself where it is installed is not used, see
// there), then checks every object:
//  1. against the Kubernetes JSON schemas (kubernetes-models, and the Prometheus Operator's
//     for ServiceMonitor): types, required fields, enums, formats;
//  2. against inferd itself: every `inferd serve` flag exists in src/cli/serve_command.cc,
//     probes use the health endpoints, the grace period covers preStop + drain, the HPA's
//     metrics are gauges that src/server/server_metrics.cc registers (and that the Prometheus
//     Adapter rules expose), selectors pick the pods, the ConfigMap is the bundled
//     config.toml, the GPU overlay asks for a GPU;
//  3. the chart renders the same objects as the matching overlay (values.yaml = cpu,
//     values-gpu.yaml = gpu), once Helm's own labels and Kustomize's name hash are set aside.
// Before all that it proves that the validator rejects a broken object, so that a validator
// that accepts everything cannot pass. Usage: node check.mjs REPO_ROOT
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import path from "node:path";
import YAML from "yaml";
import { renderChart } from "./helm_render.mjs";

const root = path.resolve(process.argv[2] ?? "../../..");
const problems = [];
const problem = (where, what) => problems.push(`${where}: ${what}`);

// --- 1. schema validation --------------------------------------------------------------
async function modelFor(apiVersion, kind) {
  const gv = apiVersion.includes("/") ? apiVersion : `v1`;
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const pkg = group === "monitoring.coreos.com" ? "@kubernetes-models/prometheus-operator" : "kubernetes-models";
  try {
    const mod = await import(`${pkg}/${gv}/${kind}`);
    return mod[kind];
  } catch {
    return null;
  }
}

async function validate(source, obj) {
  const Model = await modelFor(obj.apiVersion, obj.kind);
  if (!Model) return problem(source, `no schema for ${obj.apiVersion} ${obj.kind}`);
  try {
    new Model(obj).validate();
  } catch (e) {
    problem(`${source} ${obj.kind}/${obj.metadata?.name}`, `schema: ${e.message}`);
  }
}

// --- 2. what inferd needs ----------------------------------------------------------------
const serveSource = readFileSync(path.join(root, "src/cli/serve_command.cc"), "utf8");
const serveFlags = new Set([...serveSource.matchAll(/args\.\w+\("([a-z0-9-]+)"/g)].map((m) => m[1]));
const metricsSource = readFileSync(path.join(root, "src/server/server_metrics.cc"), "utf8");
const gauges = new Set([...metricsSource.matchAll(/add_(?:callback_)?gauge\("([a-z_]+)"/g)].map((m) => m[1]));
const adapterRules = YAML.parse(readFileSync(path.join(root, "deploy/k8s/prometheus-adapter-rules.yaml"), "utf8"));
const adapterMetrics = new Set((adapterRules?.rules?.custom ?? []).map((r) => r.name?.as));
const bundledConfig = readFileSync(path.join(root, "models/squeezenet/config.toml"), "utf8");

function argValue(args, flag) {
  for (const a of args) if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
  return undefined;
}
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

function checkSet(name, objects, { gpu }) {
  const by = (kind) => objects.filter((o) => o.kind === kind);
  for (const kind of ["Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor", "ConfigMap"])
    if (by(kind).length !== 1) problem(name, `${by(kind).length} ${kind} objects, expected 1`);
  const dep = by("Deployment")[0];
  if (!dep) return;
  const pod = dep.spec.template;
  const c = pod.spec.containers.find((x) => x.name === "inferd");
  if (!c) return problem(name, "no container named inferd");
  for (const a of c.args ?? []) {
    const m = /^--([a-z0-9-]+)(=|$)/.exec(a);
    if (!m || !serveFlags.has(m[1])) problem(name, `inferd serve has no flag ${a} (src/cli/serve_command.cc)`);
  }
  if (argValue(c.args, "model-repository") !== "/models") problem(name, "--model-repository is not /models");
  const port = Number(argValue(c.args, "port"));
  const httpPort = c.ports?.find((p) => p.name === "http");
  if (!httpPort || httpPort.containerPort !== port) problem(name, `container port http is not --port=${port}`);
  const probe = (p) => p?.httpGet?.path;
  if (probe(c.readinessProbe) !== "/v2/health/ready") problem(name, "readiness probe is not /v2/health/ready");
  if (probe(c.livenessProbe) !== "/v2/health/live") problem(name, "liveness probe is not /v2/health/live");
  if (!c.startupProbe?.httpGet) problem(name, "no startup probe");
  const sleep = Number(c.lifecycle?.preStop?.exec?.command?.[1]);
  const drain = Number(argValue(c.args, "drain-timeout-s") ?? 30);
  if (!(sleep > 0)) problem(name, "no preStop sleep");
  if (!(pod.spec.terminationGracePeriodSeconds > sleep + drain))
    problem(name, `terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} <= preStop ${sleep} + drain ${drain}`);
  for (const k of ["requests", "limits"]) if (!c.resources?.[k]?.cpu || !c.resources?.[k]?.memory) problem(name, `no cpu/memory ${k}`);
  const threads = Number(argValue(c.args, "threads") ?? 0);
  if (!gpu && !(threads > 0 && threads <= Number(c.resources?.limits?.cpu))) problem(name, "--threads is not set within the CPU limit");
  const labels = pod.metadata.labels;
  if (!matches(dep.spec.selector.matchLabels, labels)) problem(name, "Deployment selector does not pick its pods");
  const svc = by("Service")[0];
  if (svc && !matches(svc.spec.selector, labels)) problem(name, "Service selector does not pick the pods");
  if (svc && !svc.spec.ports.some((p) => p.targetPort === "http")) problem(name, "Service does not target the http port");
  const pdb = by("PodDisruptionBudget")[0];
  if (pdb && !matches(pdb.spec.selector.matchLabels, labels)) problem(name, "PDB selector does not pick the pods");
  const sm = by("ServiceMonitor")[0];
  if (sm && svc) {
    if (!matches(sm.spec.selector.matchLabels, svc.metadata.labels)) problem(name, "ServiceMonitor does not select the Service");
    if (!sm.spec.endpoints.some((e) => e.port === "http" && e.path === "/metrics")) problem(name, "ServiceMonitor does not scrape http /metrics");
  }
  const hpa = by("HorizontalPodAutoscaler")[0];
  if (hpa) {
    if (hpa.spec.scaleTargetRef.kind !== "Deployment" || hpa.spec.scaleTargetRef.name !== dep.metadata.name)
      problem(name, "HPA does not scale the Deployment");
    for (const m of hpa.spec.metrics) {
      const metric = m.pods?.metric?.name;
      if (!gauges.has(metric)) problem(name, `HPA metric ${metric} is not a gauge inferd exports (${[...gauges].join(", ")})`);
      if (!adapterMetrics.has(metric)) problem(name, `HPA metric ${metric} has no Prometheus Adapter rule`);
    }
  }
  const cm = by("ConfigMap")[0];
  const cmVolume = pod.spec.volumes?.find((v) => v.configMap);
  if (cm && (!cmVolume || cmVolume.configMap.name !== cm.metadata.name)) problem(name, "no volume mounts the ConfigMap");
  if (cm && cm.data?.["config.toml"] !== bundledConfig) problem(name, "the ConfigMap's config.toml differs from models/squeezenet/config.toml");
  const gpus = c.resources?.limits?.["nvidia.com/gpu"];
  if (gpu) {
    if (gpus !== 1) problem(name, "GPU deployment does not limit nvidia.com/gpu to 1");
    if (argValue(c.args, "backend") !== "cuda") problem(name, "GPU deployment is not --backend=cuda");
    if (!pod.spec.tolerations?.some((t) => t.key === "nvidia.com/gpu")) problem(name, "GPU deployment tolerates no nvidia.com/gpu taint");
    if (!pod.spec.nodeSelector) problem(name, "GPU deployment has no node selector");
  } else if (gpus !== undefined) problem(name, "CPU deployment asks for a GPU");
}

// --- 3. Helm vs Kustomize ------------------------------------------------------------------
const HELM_ONLY_LABELS = ["app.kubernetes.io/instance", "helm.sh/chart", "app.kubernetes.io/managed-by"];
// What legitimately differs: Helm's release labels (and selectors), the checksum annotation
// Helm needs where Kustomize hashes the ConfigMap's name, and that hash itself.
function normalize(obj, hashedNames) {
  const text = JSON.stringify(obj, (k, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const out = {};
      for (const [kk, vv] of Object.entries(v)) {
        if (HELM_ONLY_LABELS.includes(kk) || kk === "checksum/model-config") continue;
        out[kk] = vv;
      }
      return Object.keys(out).length || !Object.keys(v).length ? out : undefined;
    }
    if (typeof v === "string" && hashedNames.has(v)) return hashedNames.get(v);
    return v;
  });
  return JSON.parse(text);
}

function compareHelm(name, kustomized, helmed) {
  // Kustomize's generated ConfigMap is NAME-<10-char hash>; the chart's is RELEASE-model-config.
  const hashed = new Map();
  for (const o of kustomized)
    if (o.kind === "ConfigMap") hashed.set(o.metadata.name, o.metadata.name.replace(/-[a-z0-9]{10}$/, ""));
  const key = (o) => `${o.kind}/${o.metadata.name}`;
  const k = new Map(kustomized.filter((o) => o.kind !== "Namespace").map((o) => [key(normalize(o, hashed)), normalize(o, hashed)]));
  const h = new Map(helmed.map((o) => [key(o), normalize(o, new Map())]));
  for (const id of new Set([...k.keys(), ...h.keys()])) {
    if (!k.has(id)) problem(name, `the chart renders ${id}, the overlay does not`);
    else if (!h.has(id)) problem(name, `the overlay renders ${id}, the chart does not`);
    else if (!isDeepStrictEqual(k.get(id), h.get(id)))
      problem(name, `${id} differs:\n  kustomize ${JSON.stringify(k.get(id))}\n  helm      ${JSON.stringify(h.get(id))}`);
  }
}

// --- run ---------------------------------------------------------------------------------
async function selfTest() {
  const { Deployment } = await import("kubernetes-models/apps/v1/Deployment");
  const broken = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" },
    spec: { replicas: "two", selector: { matchLabels: { a: "b" } }, template: { spec: {} } } };
  try {
    new Deployment(broken).validate();
  } catch {
    return;
  }
  problem("self-test", "the validator accepted a Deployment with replicas: \"two\" and no containers");
}

await selfTest();
const overlays = readdirSync(path.join(root, "deploy/k8s/overlays")).sort();
const chart = path.join(root, "deploy/helm/inferd");
const valuesFor = { cpu: [], gpu: [path.join(chart, "values-gpu.yaml")] };
let count = 0;
for (const overlay of overlays) {
  const dir = path.join(root, "deploy/k8s/overlays", overlay);
  const t0 = Date.now();
  const text = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  const objects = YAML.parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
  for (const o of objects) await validate(`overlays/${overlay}`, o);
  checkSet(`overlays/${overlay}`, objects, { gpu: overlay === "gpu" });
  count += objects.length;
  console.log(`overlays/${overlay}: ${objects.length} objects rendered (${Date.now() - t0} ms): ${objects.map((o) => o.kind).join(", ")}`);
  if (!(overlay in valuesFor)) {
    problem(`overlays/${overlay}`, "no chart values to compare with (add it to valuesFor)");
    continue;
  }
  const helmed = renderChart(chart, { name: "inferd", namespace: "inferd", valueFiles: valuesFor[overlay] }).map((x) => x.obj);
  for (const o of helmed) await validate(`helm (${overlay} values)`, o);
  checkSet(`helm (${overlay} values)`, helmed, { gpu: overlay === "gpu" });
  compareHelm(`helm (${overlay} values) vs overlays/${overlay}`, objects, helmed);
  count += helmed.length;
  console.log(`helm chart, ${overlay} values: ${helmed.length} objects rendered, compared with overlays/${overlay}`);
}
for (const p of problems) console.log("FAIL:", p);
console.log(`${count} objects validated, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
