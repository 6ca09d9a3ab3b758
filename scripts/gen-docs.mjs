#!/usr/bin/env node
// Generates the reference parts of docs/ from the code itself, so they cannot drift:
//   - docs/commands/*.md: between `<!-- options: NAME -->` and `<!-- /options -->` markers, the
//     usage, description and option tables (one per help group) of command NAME, read from the commander definitions
//     that `daqyolo` parses (src/cli/registry.ts);
//   - docs/config.md: between `<!-- config: NAME -->` and `<!-- /config -->`, every key of a zod
//     schema (type, default, bounds from zod's JSON Schema; the meaning from the doc comment above
//     the key in the schema's source file, read with the TypeScript compiler's parser).
// `--check` writes nothing and exits 1 naming every stale block and every command without one
// (test/docs-current.test.ts runs it). Needs the compiled dist/ (npm run setup).
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const load = (p) => import(pathToFileURL(join(root, 'dist', p)).href);

const { Command } = await import('commander');
const { registerCommands } = await load('src/cli/registry.js');
const { z } = await import('zod');

// --- commands -------------------------------------------------------------------------------
const program = new Command().name('daqyolo');
registerCommands(program);

/** Every runnable command as [full name, Command], subcommands included ("bench train"). */
function commands(cmd, prefix = '') {
  const out = [];
  for (const c of cmd.commands) {
    const name = prefix ? `${prefix} ${c.name()}` : c.name();
    if (c.commands.length > 0) out.push(...commands(c, name));
    else out.push([name, c]);
  }
  return out;
}

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
function defaultText(o) {
  if (o.defaultValue === undefined) return '';
  if (o.defaultValueDescription) return o.defaultValueDescription;
  return typeof o.defaultValue === 'string' ? o.defaultValue : JSON.stringify(o.defaultValue);
}

function commandBlock(name, c) {
  const args = c.registeredArguments.map((a) => (a.required ? `<${a.name()}${a.variadic ? '…' : ''}>` : `[${a.name()}${a.variadic ? '…' : ''}]`));
  const lines = [
    '```',
    `daqyolo ${name} ${args.join(' ')}${c.options.length ? ' [options]' : ''}`.replace(/ +/g, ' ').trim(),
    '```',
    '',
    cell(c.description()),
    '',
  ];
  // One table per help group (commander's Option#helpGroup), in order of first appearance; the
  // ungrouped options first, without a heading, as `--help` prints them under "Options:".
  const groups = new Map();
  for (const o of c.options) groups.set(o.helpGroupHeading ?? '', [...(groups.get(o.helpGroupHeading ?? '') ?? []), o]);
  for (const [heading, options] of groups) {
    if (heading) lines.push('', `**${heading.replace(/:$/, '')}**`, '');
    lines.push('| option | meaning | default |', '|---|---|---|');
    for (const o of options) lines.push(`| \`${cell(o.flags)}\`${o.mandatory ? ' (required)' : ''} | ${cell(o.description)} | ${cell(defaultText(o))} |`);
  }
  return lines.join('\n');
}

// --- config ---------------------------------------------------------------------------------
/** Doc comments of every key of the zod objects in a source file, by dotted path from each const. */
function schemaComments(file) {
  const sf = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const consts = new Map();
  sf.forEachChild((n) => {
    if (!ts.isVariableStatement(n)) return;
    for (const d of n.declarationList.declarations) if (ts.isIdentifier(d.name) && d.initializer) consts.set(d.name.text, d.initializer);
  });
  const docOf = (node) => {
    const text = sf.getFullText();
    const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
    const docs = ranges.map((r) => text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
    if (docs.length === 0) return '';
    return docs[docs.length - 1]
      .replace(/^\/\*\*|\*\/$/g, '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, '').trim())
      .join(' ')
      .trim();
  };
  /** The first `z.object({…})` literal inside a node, following identifiers and calls to local consts. */
  const objectIn = (node, seen = new Set()) => {
    let found;
    const visit = (n) => {
      if (found) return;
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        n.expression.name.text === 'object' &&
        ts.isIdentifier(n.expression.expression) &&
        n.expression.expression.text === 'z' &&
        n.arguments[0] &&
        ts.isObjectLiteralExpression(n.arguments[0])
      ) {
        found = n.arguments[0];
        return;
      }
      if (ts.isIdentifier(n) && consts.has(n.text) && !seen.has(n.text)) {
        seen.add(n.text);
        const inner = objectIn(consts.get(n.text), seen);
        if (inner) {
          found = inner;
          return;
        }
      }
      n.forEachChild(visit);
    };
    visit(node);
    return found;
  };
  const out = new Map();
  const walk = (obj, prefix) => {
    for (const p of obj.properties) {
      if (!ts.isPropertyAssignment(p)) continue;
      const key = p.name.getText(sf).replace(/['"]/g, '');
      const doc = docOf(p);
      if (doc) out.set(prefix + key, doc);
      const inner = objectIn(p.initializer);
      if (inner) walk(inner, `${prefix}${key}.`);
    }
  };
  return (constName) => {
    const obj = objectIn(consts.get(constName));
    if (obj) walk(obj, '');
    return out;
  };
}

function typeText(s) {
  if (!s) return '';
  if (s.anyOf) return s.anyOf.map(typeText).join(' | ');
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'array') return `${typeText(s.items) || 'value'}[]`;
  return s.type ?? '';
}
function bounds(s) {
  const b = [];
  if (s.minimum !== undefined) b.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) b.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) b.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) b.push(`< ${s.exclusiveMaximum}`);
  return b.join(', ');
}

function configBlock(schema, comments) {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const rows = ['| key | type | default | range | meaning |', '|---|---|---|---|---|'];
  const walk = (s, prefix) => {
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      const path = prefix + key;
      if (sub.type === 'object' && sub.properties) {
        walk(sub, `${path}.`);
        continue;
      }
      const def = sub.default === undefined ? '' : `\`${JSON.stringify(sub.default)}\``;
      rows.push(`| \`${path}\` | ${cell(typeText(sub))} | ${cell(def)} | ${cell(bounds(sub))} | ${cell(comments.get(path) ?? '')} |`);
    }
  };
  walk(json, '');
  return rows.join('\n');
}

const configs = {
  simulator: async () => [(await load('src/sim/config.js')).simConfigSchema, schemaComments('src/sim/config.ts')('simConfigSchema')],
  training: async () => [(await load('src/config/train-config.js')).trainConfigSchema, schemaComments('src/config/train-config.ts')('trainConfigSchema')],
};

// --- blocks in files ------------------------------------------------------------------------
const problems = [];
const documented = new Set();
const all = new Map(commands(program));

async function fill(file) {
  const text = readFileSync(file, 'utf8');
  let out = '';
  let at = 0;
  const re = /<!-- (options|config): ([\w -]+?) -->\n[\s\S]*?<!-- \/\1 -->/g;
  for (const m of text.matchAll(re)) {
    const [whole, kind, name] = m;
    let body;
    if (kind === 'options') {
      const c = all.get(name);
      if (!c) {
        problems.push(`${file}: no command "${name}"`);
        continue;
      }
      documented.add(name);
      body = commandBlock(name, c);
    } else {
      const make = configs[name];
      if (!make) {
        problems.push(`${file}: no config "${name}"`);
        continue;
      }
      const [schema, comments] = await make();
      body = configBlock(schema, comments);
    }
    out += text.slice(at, m.index) + `<!-- ${kind}: ${name} -->\n${body}\n<!-- /${kind} -->`;
    at = m.index + whole.length;
  }
  out += text.slice(at);
  if (out !== text) {
    if (check) problems.push(`${file}: generated blocks are stale (run node scripts/gen-docs.mjs)`);
    else writeFileSync(file, out);
  }
}

const files = [join(root, 'docs', 'config.md')];
const cmdDir = join(root, 'docs', 'commands');
if (existsSync(cmdDir)) for (const f of readdirSync(cmdDir)) if (f.endsWith('.md')) files.push(join(cmdDir, f));
for (const f of files) if (existsSync(f)) await fill(f);
for (const name of all.keys()) if (!documented.has(name)) problems.push(`command "${name}" has no <!-- options: ${name} --> block in docs/commands/`);
if (problems.length) {
  for (const p of problems) console.error(`gen-docs: ${p}`);
  process.exit(1);
}
