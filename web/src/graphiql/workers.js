// Monaco, the editor inside GraphiQL, runs its language services in web
// workers. build.mjs bundles each one under workers/ next to this bundle, so
// they load from the service itself. The labels are the ones Monaco passes.
const WORKERS = {
  json: 'json.worker.js',
  graphql: 'graphql.worker.js',
};

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = WORKERS[label] ?? 'editor.worker.js';
    return new Worker(new URL(`./workers/${file}`, import.meta.url));
  },
};
