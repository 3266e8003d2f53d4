// Build the campaign map page and the GraphiQL page into dist/, which the
// service serves under /static (see pgbs/web.py). Every asset is bundled or
// copied here, so the pages load nothing from another host.
import { build } from 'esbuild';
import { cp, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(root, 'dist');
const require = createRequire(import.meta.url);

const shared = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  target: ['es2022'],
  logLevel: 'warning',
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
};

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await cp(path.join(root, 'src/favicon.svg'), path.join(dist, 'favicon.svg'));

// The campaign map: plain DOM and SVG, no framework.
await build({
  ...shared,
  entryPoints: { map: path.join(root, 'src/map/main.js') },
  outdir: path.join(dist, 'map'),
  format: 'esm',
});
await cp(path.join(root, 'src/map/index.html'), path.join(dist, 'map/index.html'));
// Natural Earth country outlines at 1:50m, as published by world-atlas.
await cp(require.resolve('world-atlas/countries-50m.json'), path.join(dist, 'map/countries-50m.json'));

// GraphiQL with its Monaco editor; Monaco's CSS pulls in a font, which is copied as a file.
await build({
  ...shared,
  entryPoints: { graphiql: path.join(root, 'src/graphiql/main.jsx') },
  outdir: path.join(dist, 'graphiql'),
  format: 'esm',
  jsx: 'automatic',
  loader: { '.ttf': 'file' },
  assetNames: '[name]-[hash]',
});
await cp(path.join(root, 'src/graphiql/index.html'), path.join(dist, 'graphiql/index.html'));

// Monaco runs its language services in web workers, one bundle each. The
// worker labels are the ones Monaco passes to MonacoEnvironment.getWorker.
await build({
  ...shared,
  entryPoints: {
    'editor.worker': require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
    'json.worker': require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
    'graphql.worker': require.resolve('monaco-graphql/esm/graphql.worker.js'),
  },
  outdir: path.join(dist, 'graphiql/workers'),
  format: 'iife',
});

console.log(`built ${path.relative(process.cwd(), dist) || '.'}`);
