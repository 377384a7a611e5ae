/**
 * The layer rules of ARCHITECTURE.md ("Module map"), checked by `npm run lint:deps` (part of
 * `npm test`). Lower layers never import higher ones; a rule's comment names the layer it guards.
 * A change that needs an exception changes ARCHITECTURE.md first.
 */
const BASE = '^src/(errors|clock|unknown|files|closest)\\.ts$'
const ABOVE_GARMIN_AND_STORE =
  '^src/(sync|curate|athena|lambda|deploy|status|github|doctor|cli|commands)/|^src/index\\.ts$'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, between folders or inside one.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing',
      severity: 'error',
      comment:
        'src/errors.ts, src/clock.ts and src/unknown.ts are the base: they import no other module of src/.',
      from: { path: BASE },
      to: { path: '^src/', pathNot: BASE },
    },
    {
      name: 'aws-only-base',
      severity: 'error',
      comment: 'src/aws/ (AWS errors, clients, region) knows AWS only: it imports only the base.',
      from: { path: '^src/aws/' },
      to: { path: '^src/', pathNot: `${BASE}|^src/aws/` },
    },
    {
      name: 'garmin-knows-garmin',
      severity: 'error',
      comment:
        'src/garmin/ knows Garmin: never where bytes land (store/), what is new (sync/), or anything above.',
      from: { path: '^src/garmin/' },
      to: { path: `^src/store/|${ABOVE_GARMIN_AND_STORE}` },
    },
    {
      name: 'store-knows-storage',
      severity: 'error',
      comment: 'src/store/ knows where bytes land: never Garmin, the sync, or anything above.',
      from: { path: '^src/store/' },
      to: { path: `^src/garmin/|${ABOVE_GARMIN_AND_STORE}` },
    },
    {
      name: 'sync-below-its-callers',
      severity: 'error',
      comment:
        'src/sync/ decides what is new from garmin/ and store/; it never imports AWS directly, the function, deploy, status, github, doctor, the CLI or the commands.',
      from: { path: '^src/sync/' },
      to: {
        path: '^src/(aws|curate|athena|lambda|deploy|status|github|doctor|cli|commands)/|^src/index\\.ts$',
      },
    },
    {
      name: 'curate-knows-tables',
      severity: 'error',
      comment:
        'src/curate/ turns raw objects into Parquet through sync/ and store/; it never imports AWS or Garmin directly, the catalog, the function, deploy, status, github, doctor, the CLI or the commands.',
      from: { path: '^src/curate/' },
      to: {
        path: '^src/(aws|garmin|athena|lambda|deploy|status|github|doctor|cli|commands)/|^src/index\\.ts$',
      },
    },
    {
      name: 'athena-knows-the-catalog',
      severity: 'error',
      comment:
        'src/athena/ writes the Glue catalog of the curated tables: it imports curate/ (the tables), aws/ and the base only.',
      from: { path: '^src/athena/' },
      to: { path: '^src/', pathNot: '^src/(athena|curate|aws)/|^src/(errors|clock|unknown)\\.ts$' },
    },
    {
      name: 'lambda-is-not-the-cli',
      severity: 'error',
      comment:
        'src/lambda/ is the function: it never imports the CLI (cli/, commands/, oclif, prompts, spinners) nor deploy, status, github or doctor.',
      from: { path: '^src/lambda/' },
      to: {
        path: '^src/(cli|commands|deploy|status|github|doctor)/|^src/index\\.ts$|(^|/)node_modules/(@oclif|@inquirer|ora)/',
      },
    },
    {
      name: 'deploy-below-commands',
      severity: 'error',
      comment:
        'src/deploy/ builds the AWS resources; of the function it imports only its contracts: the environment (src/lambda/environment.ts) and the metrics its alarms watch (src/lambda/metrics.ts), never the handler.',
      from: { path: '^src/deploy/' },
      to: {
        path: '^src/(lambda|status|github|doctor|cli|commands)/|^src/index\\.ts$',
        pathNot: '^src/lambda/(environment|metrics)\\.ts$',
      },
    },
    {
      name: 'status-below-commands',
      severity: 'error',
      comment:
        'src/status/ reads state and deployments; it never imports the function, github, doctor, the CLI or the commands.',
      from: { path: '^src/status/' },
      to: { path: '^src/(lambda|github|doctor|cli|commands)/|^src/index\\.ts$' },
    },
    {
      name: 'github-below-commands',
      severity: 'error',
      comment:
        'src/github/ writes workflows and roles; it never imports the function, status, doctor, the CLI or the commands.',
      from: { path: '^src/github/' },
      to: { path: '^src/(lambda|status|doctor|cli|commands)/|^src/index\\.ts$' },
    },
    {
      name: 'doctor-below-commands',
      severity: 'error',
      comment: 'src/doctor/ runs the checks; it never imports the function, github, the CLI or the commands.',
      from: { path: '^src/doctor/' },
      to: { path: '^src/(lambda|github|cli|commands)/|^src/index\\.ts$' },
    },
    {
      name: 'nothing-imports-commands',
      severity: 'error',
      comment: 'src/commands/ is the top: only oclif loads it (package.json "oclif.commands").',
      from: { path: '^src/', pathNot: '^src/commands/' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'oclif-only-in-the-cli',
      severity: 'error',
      comment:
        'Only src/cli/ and src/commands/ know oclif, prompts and spinners; every layer below is a library.',
      from: { path: '^src/', pathNot: '^src/(cli|commands)/' },
      to: { path: '(^|/)node_modules/(@oclif|@inquirer|ora)/' },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      comment: 'src/ ships; test/, bench/ and scripts/ do not.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'src-no-dev-dependencies',
      severity: 'error',
      comment:
        'What src/ imports at run time must be a dependency (or the optional peer impit), not a devDependency.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment:
        'Every import resolves (the optional peer impit is loaded with a dynamic import and may be absent).',
      from: { path: '^src/' },
      to: { couldNotResolve: true, pathNot: '^impit$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}
