// A stand-in for `helm template`, for machines without Helm (it is no Debian 12 package and
// not on npm): renders deploy/helm/inferd with the subset of Go's text/template and of
// Helm's functions that the chart uses, and throws on anything else, so that a template
// using more fails the test instead of rendering wrongly. Stricter than Helm on purpose: a
// missing value is an error (Helm would print nothing).
//
// Supported: text with {{ }} actions and the {{- -}} whitespace trims, comments, define /
// include, if / else / end, with / end, pipelines, the fields .Values.* .Release.*
// .Chart.* and `.`, string and number literals, and the functions quote, toYaml, indent,
// nindent, sha256sum and .Files.Get. Not Helm: where this and Helm differ, Helm is right;
// docs/deploy.md says so.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";

// Splits a template into text and actions, applying the trim markers.
function tokenize(src, file) {
  const out = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    if (open < 0) { out.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let j = open + 2;
    if (src.startsWith("- ", j)) { text = text.replace(/\s+$/, ""); j += 2; }
    out.push({ text });
    let close = src.indexOf("}}", j);
    if (close < 0) throw new Error(`${file}: unclosed {{`);
    let body = src.slice(j, close);
    let next = close + 2;
    if (body.endsWith(" -")) {
      body = body.slice(0, -2);
      const m = /^\s*/.exec(src.slice(next));
      next += m[0].length;
    }
    out.push({ action: body.trim() });
    i = next;
  }
  return out;
}

// Builds a tree: {kind: text|expr|if|with|define, ...}; if/with have body and elseBody.
function parse(tokens, file) {
  let pos = 0;
  function block(stopAt) {
    const nodes = [];
    while (pos < tokens.length) {
      const t = tokens[pos++];
      if ("text" in t) { if (t.text) nodes.push({ kind: "text", text: t.text }); continue; }
      const a = t.action;
      if (a.startsWith("/*")) { if (!a.endsWith("*/")) throw new Error(`${file}: bad comment`); continue; }
      const word = a.split(/\s+/)[0];
      if (word === "end" || word === "else") {
        if (!stopAt) throw new Error(`${file}: unexpected {{ ${a} }}`);
        return { nodes, stop: word };
      }
      if (word === "if" || word === "with") {
        const node = { kind: word, pipe: a.slice(word.length).trim() };
        const first = block(true);
        node.body = first.nodes;
        node.elseBody = [];
        if (first.stop === "else") {
          const second = block(true);
          if (second.stop !== "end") throw new Error(`${file}: two else in one ${word}`);
          node.elseBody = second.nodes;
        }
        nodes.push(node);
        continue;
      }
      if (word === "define") {
        const m = /^define\s+"([^"]+)"$/.exec(a);
        if (!m) throw new Error(`${file}: bad define: ${a}`);
        const inner = block(true);
        if (inner.stop !== "end") throw new Error(`${file}: else in a define`);
        nodes.push({ kind: "define", name: m[1], body: inner.nodes });
        continue;
      }
      if (["range", "template", "block", "break", "continue"].includes(word) || a.includes(":=") || a.includes("$"))
        throw new Error(`${file}: {{ ${a} }} is outside what this renderer supports (use Helm)`);
      nodes.push({ kind: "expr", pipe: a });
    }
    if (stopAt) throw new Error(`${file}: missing {{ end }}`);
    return { nodes, stop: null };
  }
  return block(false).nodes;
}

function truthy(v) {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function printable(v, where) {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new Error(`${where}: cannot print ${JSON.stringify(v)} (use toYaml)`);
}

// Splits `a "b c" d` into words, keeping string literals whole.
function words(s) {
  const out = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[^\s"]+)/g;
  let m;
  while ((m = re.exec(s)) !== null) out.push(m[1]);
  return out;
}

class Renderer {
  constructor(chartDir, values, release) {
    this.chartDir = chartDir;
    this.defines = new Map();
    this.root = { Values: values, Release: release, Chart: YAML.parse(readFileSync(path.join(chartDir, "Chart.yaml"), "utf8")) };
    // Helm's .Chart fields are capitalised (Name, Version, ...).
    const c = this.root.Chart;
    this.root.Chart = { Name: c.name, Version: c.version, AppVersion: c.appVersion };
  }

  operand(word, dot, where) {
    if (word.startsWith('"')) return JSON.parse(word);
    if (/^-?\d+$/.test(word)) return Number(word);
    if (word === ".") return dot;
    if (word.startsWith(".")) {
      const parts = word.slice(1).split(".");
      // Relative to dot, as in Go: .Values only where dot is the root.
      let v = dot;
      for (const p of parts) {
        if (v === null || typeof v !== "object" || !(p in v)) throw new Error(`${where}: ${word} has no value`);
        v = v[p];
      }
      return v;
    }
    throw new Error(`${where}: unknown operand ${word}`);
  }

  call(name, args, where) {
    const need = (n) => { if (args.length !== n) throw new Error(`${where}: ${name} takes ${n} arguments`); };
    switch (name) {
      case "quote": need(1); return JSON.stringify(printable(args[0], where));
      case "toYaml": need(1);
        // sigs.k8s.io/yaml (Helm) sorts keys and Helm trims the final newline.
        return YAML.stringify(args[0], { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, "");
      case "indent": case "nindent": {
        need(2);
        const pad = " ".repeat(args[0]);
        const s = pad + printable(args[1], where).split("\n").join("\n" + pad);
        return name === "nindent" ? "\n" + s : s;
      }
      case "sha256sum": need(1); return createHash("sha256").update(printable(args[0], where)).digest("hex");
      case "include": {
        need(2);
        const body = this.defines.get(args[0]);
        if (!body) throw new Error(`${where}: no define "${args[0]}"`);
        return this.run(body, args[1], where);
      }
      case ".Files.Get": {
        need(1);
        const p = path.resolve(this.chartDir, args[0]);
        if (!p.startsWith(path.resolve(this.chartDir) + path.sep)) throw new Error(`${where}: ${args[0]} is outside the chart`);
        return readFileSync(p, "utf8");
      }
      default: throw new Error(`${where}: function ${name} is outside what this renderer supports (use Helm)`);
    }
  }

  pipeline(text, dot, where) {
    let value;
    let first = true;
    for (const stage of text.split("|").map((s) => s.trim())) {
      const w = words(stage);
      if (w.length === 0) throw new Error(`${where}: empty pipeline stage in ${text}`);
      const isCall = !(w[0].startsWith('"') || /^-?\d+$/.test(w[0]) || (w[0].startsWith(".") && w[0] !== ".Files.Get"));
      if (!isCall) {
        if (w.length !== 1 || !first) throw new Error(`${where}: bad pipeline ${text}`);
        value = this.operand(w[0], dot, where);
      } else {
        const args = w.slice(1).map((x) => this.operand(x, dot, where));
        if (!first) args.push(value);
        value = this.call(w[0], args, where);
      }
      first = false;
    }
    return value;
  }

  run(nodes, dot, where) {
    let out = "";
    for (const n of nodes) {
      if (n.kind === "text") out += n.text;
      else if (n.kind === "define") this.defines.set(n.name, n.body);
      else if (n.kind === "expr") { const v = this.pipeline(n.pipe, dot, where); out += v === undefined ? "" : printable(v, where); }
      else if (n.kind === "if") out += this.run(truthy(this.pipeline(n.pipe, dot, where)) ? n.body : n.elseBody, dot, where);
      else if (n.kind === "with") {
        const v = this.pipeline(n.pipe, dot, where);
        out += truthy(v) ? this.run(n.body, v, where) : this.run(n.elseBody, dot, where);
      }
    }
    return out;
  }
}

// Helm merges -f values over the chart's: maps key by key, anything else replaced whole.
function merge(base, over) {
  if (over === null || typeof over !== "object" || Array.isArray(over) || base === null || typeof base !== "object" || Array.isArray(base))
    return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

// Renders the chart as `helm template NAME CHART -n NAMESPACE -f VALUES...` would, and
// returns the objects (the parsed documents).
export function renderChart(chartDir, { name, namespace, valueFiles = [] }) {
  let values = YAML.parse(readFileSync(path.join(chartDir, "values.yaml"), "utf8")) ?? {};
  for (const f of valueFiles) values = merge(values, YAML.parse(readFileSync(f, "utf8")) ?? {});
  const r = new Renderer(chartDir, values, { Name: name, Namespace: namespace, Service: "Helm" });
  const dir = path.join(chartDir, "templates");
  const files = readdirSync(dir).sort();
  // Helpers first (Helm loads every template before rendering any).
  const trees = files.map((f) => [f, parse(tokenize(readFileSync(path.join(dir, f), "utf8"), f), f)]);
  for (const [f, tree] of trees) if (f.startsWith("_")) r.run(tree, r.root, f);
  const objects = [];
  for (const [f, tree] of trees) {
    if (f.startsWith("_") || !/\.ya?ml$/.test(f)) continue;
    const text = r.run(tree, r.root, f);
    for (const doc of YAML.parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`${f}: rendered YAML does not parse: ${doc.errors[0].message}\n${text}`);
      const obj = doc.toJS();
      if (obj !== null) objects.push({ source: `helm:${f}`, obj });
    }
  }
  return objects;
}
