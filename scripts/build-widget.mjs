// Builds the notebook widget (anywidget ESM) from the same sources as the lab extension:
//   src/widget/index.ts  -> glue_jupyter/static/widget.js  (CSS embedded, injected once)
//   style/transcript.css, notebook.css, workspace.css, widget.css -> glue_jupyter/static/widget.css
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const out = new URL('glue_jupyter/static/', root);
mkdirSync(out, { recursive: true });
const css = ['style/transcript.css', 'style/notebook.css', 'style/agent-session.css', 'style/workspace.css', 'style/widget.css']
  .map(f => readFileSync(new URL(f, root), 'utf8'))
  .join('\n');
writeFileSync(new URL('widget.css', out), css);
const production = process.argv.includes('--dev') ? false : true;
await build({
  entryPoints: [new URL('src/widget/index.ts', root).pathname],
  outfile: new URL('widget.js', out).pathname,
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: production,
  sourcemap: false,
  legalComments: 'eof',
  define: { __GLUE_CSS__: JSON.stringify(css) },
  logLevel: 'warning'
});
console.log('glue_jupyter/static/widget.js and widget.css built');
